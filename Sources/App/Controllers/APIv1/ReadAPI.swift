import DetectionEngine
import EventPipeline
import Incidents
import SecurityModel
import Vapor

/// API v1 beside incidents: alerts, the event search, the audit trail, playbooks, rules, health
/// and tokens. Lists take the page's filters plus `limit` and `cursor` (the `next_cursor` of the
/// page before; absent on the last page).
struct ReadAPI {
    func register(_ routes: any RoutesBuilder) {
        let v1 = routes.grouped("api", "v1")
        v1.secured(.GET, "alerts", access: .role(.viewer), use: alerts)
        v1.secured(.GET, "events", access: .role(.analyst), use: events)
        v1.secured(.GET, "audit", access: .role(.admin), use: audit)
        v1.secured(.GET, "playbooks", access: .role(.viewer), use: playbooks)
        v1.secured(.POST, "playbooks", ":name", access: .role(.admin), use: updatePlaybook)
        v1.secured(.GET, "rules", access: .role(.viewer), use: rules)
        v1.secured(.POST, "rules", "validate", access: .role(.admin), use: validateRules)
        v1.secured(.POST, "rules", "reload", access: .role(.admin), use: reloadRules)
        v1.secured(.GET, "health", access: .role(.viewer), use: APIController().health)
        v1.secured(.GET, "tokens", access: .role(.admin), use: tokens)
        v1.secured(.POST, "tokens", access: .role(.admin), use: createToken)
        v1.secured(.POST, "tokens", ":id", "revoke", access: .role(.admin), use: revokeToken)
        v1.secured(.GET, "openapi.json", access: .role(.viewer), use: openAPI)
    }

    /// The OpenAPI 3.1 document (``APIDocument``).
    @Sendable func openAPI(_ request: Request) async throws -> Response {
        let response = Response(status: .ok, body: .init(data: APIDocument.json))
        response.headers.contentType = .json
        return response
    }

    static func limit(_ value: Int?, max: Int = 200) throws(IncidentRefusal) -> Int {
        let limit = value ?? 50
        guard (1...max).contains(limit) else { throw IncidentRefusal(.invalid, field: "limit", "must be between 1 and \(max)") }
        return limit
    }

    // MARK: Alerts

    struct AlertQuery: Content { var level: String?; var status: String?; var rule: String?; var since: String?; var until: String?; var limit: Int?; var cursor: String? }

    struct Alert: Content {
        var id: String
        var rule: String
        var title: String
        var level: String
        var group: String
        var entities: [APIViews.EntityView]
        var firstSeen: String
        var lastSeen: String
        var eventCount: Int
        var events: [String]
        var status: String
        var node: String
        var incident: String?
        enum CodingKeys: String, CodingKey {
            case id, rule, title, level, group, entities, events, status, node, incident
            case firstSeen = "first_seen", lastSeen = "last_seen", eventCount = "event_count"
        }
    }

    struct AlertPage: Content {
        var alerts: [Alert]
        var total: Int
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case alerts, total, nextCursor = "next_cursor" }
    }

    @Sendable func alerts(_ request: Request) async throws -> AlertPage {
        let query = try request.query.decode(AlertQuery.self)
        var filter = AlertStore.Filter()
        if let level = try FormValues.choice(query.level, field: "level", as: Severity.self) { filter.levels = [level] }
        if let status = try FormValues.choice(query.status, field: "status", as: SecurityAlert.Status.self) { filter.status = status.rawValue }
        filter.rule = FormValues.clean(query.rule, maxBytes: 128)
        filter.since = try FormValues.time(query.since, field: "since")
        filter.until = try FormValues.time(query.until, field: "until")
        filter.limit = try Self.limit(query.limit)
        if let cursor = query.cursor {
            let parts = try request.secmon.cursors.decode(cursor, kind: "alerts", count: 2)
            guard let last = Int64(parts[0]) else { throw IncidentRefusal(.invalid, field: "cursor", "not a cursor this server gave") }
            filter.after = (last, parts[1])
        }
        let (rows, total) = try await AlertStore(database: try request.sqlDatabase()).list(filter)
        let next = rows.count == filter.limit ? rows.last.map { request.secmon.cursors.encode(kind: "alerts", [String($0.alert.lastTime.microseconds), $0.alert.id]) } : nil
        return AlertPage(alerts: rows.map { row, incident in
            Alert(id: row.id, rule: row.rule, title: row.title, level: row.level.rawValue, group: row.groupDescription,
                  entities: row.entities.map { .init(kind: $0.kind.rawValue, value: $0.value) }, firstSeen: row.firstTime.api, lastSeen: row.lastTime.api,
                  eventCount: row.eventCount, events: row.events, status: row.status, node: row.node, incident: incident)
        }, total: total, nextCursor: next)
    }

    // MARK: Events

    struct EventPage: Content {
        var events: [EventRow]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case events, nextCursor = "next_cursor" }
    }

    @Sendable func events(_ request: Request) async throws -> EventPage {
        var filter = try EventsQuery.filter(from: request)
        filter.limit = try Self.limit(try request.query.get(Int?.self, at: "limit"), max: 1000)
        if let cursor = try request.query.get(String?.self, at: "cursor") {
            let parts = try request.secmon.cursors.decode(cursor, kind: "events", count: 2)
            guard let ts = Int64(parts[0]) else { throw IncidentRefusal(.invalid, field: "cursor", "not a cursor this server gave") }
            filter.after = (ts, parts[1])
        }
        let rows = try await request.eventStore().recent(filter)
        let next = rows.count == filter.limit ? rows.last.map { request.secmon.cursors.encode(kind: "events", [String($0.timestamp.microseconds), $0.eventID]) } : nil
        return EventPage(events: rows.map(EventRow.init), nextCursor: next)
    }

    // MARK: Audit

    struct AuditEntry: Content {
        var seq: Int64
        var time: String
        var actor: String
        var actorKind: String
        var sourceIP: String?
        var action: String
        var target: String
        var before: String?
        var after: String?
        enum CodingKeys: String, CodingKey {
            case seq, time, actor, action, target, before, after, actorKind = "actor_kind", sourceIP = "source_ip"
        }
    }

    struct AuditPage: Content {
        var entries: [AuditEntry]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case entries, nextCursor = "next_cursor" }
    }

    struct AuditQuery: Content { var actor: String?; var action: String?; var target: String?; var since: String?; var until: String?; var limit: Int?; var cursor: String? }

    @Sendable func audit(_ request: Request) async throws -> AuditPage {
        let query = try request.query.decode(AuditQuery.self)
        var filter = AuditTrail.Filter()
        filter.actor = FormValues.clean(query.actor, maxBytes: 128)
        filter.action = FormValues.clean(query.action, maxBytes: 64)
        filter.target = FormValues.clean(query.target, maxBytes: 256)
        filter.since = try FormValues.time(query.since, field: "since")
        filter.until = try FormValues.time(query.until, field: "until")
        filter.limit = try Self.limit(query.limit, max: 500)
        if let cursor = query.cursor {
            let parts = try request.secmon.cursors.decode(cursor, kind: "audit", count: 1)
            guard let seq = Int64(parts[0]) else { throw IncidentRefusal(.invalid, field: "cursor", "not a cursor this server gave") }
            filter.before = seq
        }
        let entries = try await AuditTrail.entries(filter, on: try request.sqlDatabase())
        let next = entries.count == filter.limit ? entries.last.map { request.secmon.cursors.encode(kind: "audit", [String($0.seq)]) } : nil
        return AuditPage(entries: entries.map {
            AuditEntry(seq: $0.seq, time: $0.time.api, actor: $0.actor.name, actorKind: $0.actor.kind.rawValue, sourceIP: $0.actor.sourceIP,
                       action: $0.action, target: $0.target, before: $0.before, after: $0.after)
        }, nextCursor: next)
    }

    // MARK: Playbooks

    struct PlaybookView: Content {
        var name: String
        var title: String
        var description: String
        var tasks: [Playbook.Task]
        var version: Int
        var updatedBy: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey { case name, title, description, tasks, version, updatedBy = "updated_by", updatedAt = "updated_at" }
    }

    struct PlaybookList: Content { var playbooks: [PlaybookView] }

    struct PlaybookBody: Codable {
        var title: String
        var description: String
        var tasks: [Playbook.Task]
        var version: Int
    }

    @Sendable func playbooks(_ request: Request) async throws -> PlaybookList {
        PlaybookList(playbooks: try await PlaybookStore(database: try request.sqlDatabase()).all().map {
            PlaybookView(name: $0.playbook.name, title: $0.playbook.title, description: $0.playbook.description, tasks: $0.playbook.tasks,
                         version: $0.version, updatedBy: $0.updatedBy, updatedAt: $0.updated.api)
        })
    }

    @Sendable func updatePlaybook(_ request: Request) async throws -> PlaybookList {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(PlaybookBody.self, from: request, allowed: ["title", "description", "tasks", "version"])
        guard let name = request.parameters.get("name"), name.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "name", "the playbook name in the path is missing or too long")
        }
        guard body.tasks.allSatisfy({ !$0.title.contains("\n") && !$0.detail.contains("\n") && !$0.title.contains(" :: ") }) else {
            throw IncidentRefusal(.invalid, field: "tasks", "a task's title and detail are one line each, and a title has no ' :: '")
        }
        let text = Playbook(name: name, title: body.title, description: body.description, tasks: body.tasks).tasksText
        try await PlaybookStore(database: try request.sqlDatabase()).update(name, title: body.title, description: body.description, tasksText: text,
                                                                            version: body.version, by: request.actor(principal), on: request.db)
        return try await playbooks(request)
    }

    // MARK: Rules

    struct RuleView: Content {
        var id: String
        var title: String
        var kind: String
        var level: String
        var playbook: String?
        var raisesAlerts: Bool
        var file: String
        var line: Int
        enum CodingKeys: String, CodingKey { case id, title, kind, level, playbook, file, line, raisesAlerts = "raises_alerts" }
    }

    struct RuleList: Content {
        var detection: Bool
        var path: String?
        var rules: [RuleView]
    }

    struct Validation: Content {
        var valid: Bool
        var rules: Int
        var errors: [String]
        var warnings: [String]
    }

    @Sendable func rules(_ request: Request) async throws -> RuleList {
        guard let stage = request.secmon.runtime.detection else { return RuleList(detection: false, path: nil, rules: []) }
        let set = stage.rules
        return RuleList(detection: true, path: request.secmon.runtime.rules.path, rules: (0..<set.count).map { index in
            let info = set.info(ofNode: index)
            return RuleView(id: info.label, title: info.title, kind: info.kind.rawValue, level: info.level.rawValue, playbook: info.playbook,
                            raisesAlerts: set.raisesAlerts(node: index), file: info.file, line: info.line)
        })
    }

    /// Reads the rule directory as a reload would, without switching to it.
    @Sendable func validateRules(_ request: Request) async throws -> Validation {
        guard let path = request.secmon.runtime.rules.path else {
            throw Abort(.conflict, reason: "live detection is off: no rules were found at startup")
        }
        let result = RuleDirectory.load(path)
        return Validation(valid: result.errors.isEmpty, rules: result.ruleSet.count, errors: result.errors.map(\.description),
                          warnings: result.warnings.map(\.description))
    }

    @Sendable func reloadRules(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let (status, result) = RulesController.result(await request.secmon.runtime.rules.reload(by: request.actor(principal)))
        guard status == .ok else {
            throw Abort(status, reason: result.status == "refused" ? "the rules have errors; the running rules stay: " + result.errors.prefix(20).joined(separator: "; ")
                                                                    : result.errors.joined(separator: "; "))
        }
        return try await result.encodeResponse(for: request)
    }

    // MARK: Tokens

    struct TokenView: Content {
        var id: String
        var name: String
        var role: String
        var prefix: String
        var state: String
        var createdBy: String
        var createdAt: String
        var expiresAt: String
        var lastUsedAt: String?
        var lastUsedIP: String?
        /// Only in the answer to its creation.
        var token: String?
        enum CodingKeys: String, CodingKey {
            case id, name, role, prefix, state, token, createdBy = "created_by", createdAt = "created_at", expiresAt = "expires_at"
            case lastUsedAt = "last_used_at", lastUsedIP = "last_used_ip"
        }

        init(_ record: APITokenStore.Record, token: String? = nil) {
            id = record.id
            name = record.name
            role = record.role.rawValue
            prefix = record.prefix
            state = record.state(at: .now())
            createdBy = record.createdBy
            createdAt = record.created.api
            expiresAt = record.expires.api
            lastUsedAt = record.lastUsed?.api
            lastUsedIP = record.lastUsedIP
            self.token = token
        }
    }

    struct TokenList: Content { var tokens: [TokenView] }
    struct TokenBody: Codable { var name: String; var role: String; var days: Int? }

    @Sendable func tokens(_ request: Request) async throws -> TokenList {
        TokenList(tokens: try await APITokenStore(database: try request.sqlDatabase()).all().map { TokenView($0) })
    }

    @Sendable func createToken(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(TokenBody.self, from: request, allowed: ["name", "role", "days"])
        guard let role = try FormValues.choice(body.role, field: "role", as: Role.self) else {
            throw IncidentRefusal(.invalid, field: "role", "choose viewer, analyst or admin")
        }
        let (token, record) = try await APITokenStore(database: try request.sqlDatabase())
            .create(name: body.name, role: role, days: body.days ?? 90, by: request.actor(principal))
        let response = try await TokenView(record, token: token).encodeResponse(for: request)
        response.status = .created
        return response
    }

    @Sendable func revokeToken(_ request: Request) async throws -> TokenView {
        let principal = try request.requirePrincipal()
        guard let id = request.parameters.get("id"), id.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "id", "the token id in the path is missing or too long")
        }
        return TokenView(try await APITokenStore(database: try request.sqlDatabase()).revoke(id: id, by: request.actor(principal)))
    }
}
