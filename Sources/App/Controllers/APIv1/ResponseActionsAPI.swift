import ActiveResponse
import EventPipeline
import Incidents
import SecurityModel
import Vapor

/// `/api/v1/responses` (every kind of action: block, rate limit, lock, watchlist, allowlist; list,
/// take, edit, undo) and `/api/v1/response-policies` (each rule's automatic response), with the
/// checks, audit rows and timeline lines of the Response pages. Allowlist entries and policies are
/// administrators'; the rest analysts'.
struct ResponseActionsAPI {
    struct Action: Content {
        var id: String
        var kind: String
        var target: String
        var reason: String
        var rule: String?
        var alert: String?
        var incident: String?
        var actor: String
        var createdAt: String
        var expiresAt: String?
        var state: String
        var undoneBy: String?
        var rate: Int?
        var dryRun: Bool
        enum CodingKeys: String, CodingKey {
            case id, kind, target, reason, rule, alert, incident, actor, state, rate, createdAt = "created_at", expiresAt = "expires_at",
                 undoneBy = "undone_by", dryRun = "dry_run"
        }

        init(_ action: ResponseStore.Action, now: Timestamp) {
            id = action.id
            kind = action.kind
            target = action.target
            reason = action.reason
            rule = action.rule
            alert = action.alertID
            incident = action.incidentID
            actor = action.actor
            createdAt = action.created.api
            expiresAt = action.expires?.api
            state = ResponseController.state(action, now: now)
            undoneBy = action.undoneBy
            rate = action.rate
            dryRun = action.dryRun
        }
    }

    struct ActionList: Content {
        var actions: [Action]
        var refusedRequests: Int
        var limitedRequests: Int
        enum CodingKeys: String, CodingKey { case actions, refusedRequests = "refused_requests", limitedRequests = "limited_requests" }
    }

    struct ActionBody: Codable {
        var kind: String
        var target: String
        var minutes: Int?
        var reason: String
        var incident: String?
        var rate: Int?
    }

    struct EditBody: Codable {
        var minutes: Int?
        var reason: String?
    }

    struct Policy: Content {
        var rule: String
        var actions: [String]
        var minutes: Int
        var escalation: Int
        var maxMinutes: Int
        var rate: Int
        var dryRun: Bool
        var enabled: Bool
        var version: Int
        var updatedBy: String
        var updatedAt: String
        var summary: String
        enum CodingKeys: String, CodingKey {
            case rule, actions, minutes, escalation, rate, enabled, version, summary, maxMinutes = "max_minutes", dryRun = "dry_run",
                 updatedBy = "updated_by", updatedAt = "updated_at"
        }

        init(_ stored: ResponsePolicyStore.Stored) {
            rule = stored.policy.rule
            actions = stored.policy.actionNames
            minutes = stored.policy.minutes
            escalation = stored.policy.escalation
            maxMinutes = stored.policy.maxMinutes
            rate = stored.policy.ratePerMinute
            dryRun = stored.policy.dryRun
            enabled = stored.policy.enabled
            version = stored.version
            updatedBy = stored.updatedBy
            updatedAt = stored.updated.api
            summary = stored.policy.summary
        }
    }

    struct PolicyList: Content {
        var policies: [Policy]
        var dryRun: Bool
        enum CodingKeys: String, CodingKey { case policies, dryRun = "dry_run" }
    }

    struct PolicyBody: Codable {
        var actions: [String]
        var minutes: Int
        var escalation: Int?
        var maxMinutes: Int?
        var rate: Int?
        var dryRun: Bool?
        var enabled: Bool?
        var version: Int
        enum CodingKeys: String, CodingKey {
            case actions, minutes, escalation, rate, enabled, version, maxMinutes = "max_minutes", dryRun = "dry_run"
        }
    }

    func register(_ routes: any RoutesBuilder) {
        let actions = routes.grouped("api", "v1", "responses")
        actions.secured(.GET, access: .role(.analyst), use: list)
        actions.secured(.POST, access: .role(.analyst), use: create)
        actions.secured(.POST, ":id", "edit", access: .role(.analyst), use: edit)
        actions.secured(.POST, ":id", "undo", access: .role(.analyst), use: undo)
        let policies = routes.grouped("api", "v1", "response-policies")
        policies.secured(.GET, access: .role(.analyst), use: listPolicies)
        policies.secured(.POST, ":rule", access: .role(.admin), use: savePolicy)
    }

    @Sendable func list(_ request: Request) async throws -> ActionList {
        let kind = try request.query.get(String?.self, at: "kind").map { text -> ResponseKind in
            guard let kind = ResponseKind(parsing: text) else {
                throw IncidentRefusal(.invalid, field: "kind", "one of block, ratelimit, lock, watch, allow")
            }
            return kind
        }
        let state = try request.query.get(String?.self, at: "state") ?? "active"
        guard state == "active" || state == "all" else { throw IncidentRefusal(.invalid, field: "state", "active (in force) or all") }
        let store = ResponseStore(database: request.db)
        let now = Timestamp.now()
        let kinds = kind.map { [$0] } ?? ResponseKind.allCases
        let found = state == "active" ? try await store.active(kinds) : try await store.recent(kinds: kinds, limit: 500)
        let list = request.secmon.runtime.responses
        return ActionList(actions: found.map { Action($0, now: now) }, refusedRequests: list.refusedRequests, limitedRequests: list.limitedRequests)
    }

    @Sendable func create(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(ActionBody.self, from: request, allowed: ["kind", "target", "minutes", "reason", "incident", "rate"])
        guard let kind = ResponseKind(parsing: body.kind) else {
            throw IncidentRefusal(.invalid, field: "kind", "one of block, ratelimit, lock, watch, allow")
        }
        try ResponseController.requireRole(for: kind, principal)
        let action = try await ResponseStore(database: request.db, sessions: request.secmon.sessions).apply(
            kind, target: body.target, minutes: body.minutes, reason: body.reason, incident: body.incident, rate: body.rate, by: request.actor(principal))
        await request.secmon.runtime.responses.reload()
        let response = try await Action(action, now: .now()).encodeResponse(for: request)
        response.status = .created
        return response
    }

    @Sendable func edit(_ request: Request) async throws -> Action {
        let principal = try request.requirePrincipal()
        let id = try Self.id(request)
        let body = try StrictBody.decode(EditBody.self, from: request, allowed: ["minutes", "reason"])
        let store = ResponseStore(database: request.db)
        if let existing = try await store.find(id), let kind = existing.responseKind { try ResponseController.requireRole(for: kind, principal) }
        let action = try await store.edit(id, minutes: body.minutes, reason: body.reason, by: request.actor(principal))
        await request.secmon.runtime.responses.reload()
        return Action(action, now: .now())
    }

    @Sendable func undo(_ request: Request) async throws -> Action {
        let principal = try request.requirePrincipal()
        let id = try Self.id(request)
        let store = ResponseStore(database: request.db)
        if let existing = try await store.find(id), let kind = existing.responseKind { try ResponseController.requireRole(for: kind, principal) }
        let action = try await store.undo(id, by: request.actor(principal))
        await request.secmon.runtime.responses.reload()
        return Action(action, now: .now())
    }

    @Sendable func listPolicies(_ request: Request) async throws -> PolicyList {
        PolicyList(policies: try await ResponsePolicyStore(database: try request.sqlDatabase()).all().map(Policy.init), dryRun: request.secmon.config.responseDryRun)
    }

    @Sendable func savePolicy(_ request: Request) async throws -> Policy {
        let principal = try request.requirePrincipal()
        let rule = request.parameters.get("rule") ?? ""
        let body = try StrictBody.decode(PolicyBody.self, from: request,
                                         allowed: ["actions", "minutes", "escalation", "max_minutes", "rate", "dry_run", "enabled", "version"])
        let (kinds, host) = try ResponsePolicy.actions(named: Array(body.actions.prefix(8)))
        let policy = ResponsePolicy(rule: rule, actions: kinds, hostActions: host, minutes: body.minutes, escalation: body.escalation ?? 1,
                                    maxMinutes: body.maxMinutes ?? body.minutes, ratePerMinute: body.rate ?? 60,
                                    dryRun: body.dryRun ?? false, enabled: body.enabled ?? true)
        let stored = try await ResponsePolicyStore(database: try request.sqlDatabase()).save(
            policy, version: body.version, knownRules: ResponseController.ruleIDs(request), by: request.actor(principal), on: request.db)
        return Policy(stored)
    }

    static func id(_ request: Request) throws -> String {
        guard let id = request.parameters.get("id"), id.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "id", "the action id in the path is missing or too long")
        }
        return id
    }
}
