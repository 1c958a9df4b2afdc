import ActiveResponse
import EventPipeline
import Incidents
import SecurityModel
import Vapor

/// The Response page (analysts): every action in force by kind (blocked sources, rate limits,
/// locked accounts, watchlist, allowlist) with why, until when, edit and undo; a form to take
/// one; the history, dry runs included. Actions from an incident's page. Allowlist entries are
/// administrators'. Each change takes effect at once on this node (and within seconds on nodes
/// sharing the database).
struct ResponseController {
    struct ActionForm: Content {
        var kind: String?
        var target: String?
        var minutes: Int?
        var rate: Int?
        var reason: String?
    }

    struct EditForm: Content {
        var minutes: Int?
        var reason: String?
    }

    struct Row: Encodable {
        var id: String
        var kind: String
        var kindLabel: String
        var target: String
        var reason: String
        var actor: String
        var created: String
        var expires: String
        var state: String
        var active: Bool
        var dryRun: Bool
        var rate: Int?
        var rule: String?
        var alert: String?
        var incident: String?
        var undoneBy: String?
        var summary: String
    }

    struct Section: Encodable {
        var kind: String
        var title: String
        var empty: String
        var rows: [Row]
        var canChange: Bool
    }

    struct Context: Encodable {
        var title = "Response"
        var user: LayoutUser
        var sections: [Section]
        var history: [Row]
        var refused: Int
        var limited: Int
        var evicted: Int
        var dryRunMode: Bool
        var notice: String?
        var error: String?
        var kind: String
        var target: String
        var reason: String
        var kinds: [Choice]
    }

    struct Choice: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "response", access: .role(.analyst), use: page)
        routes.secured(.POST, "response", "act", access: .role(.analyst), use: act)
        routes.secured(.POST, "response", ":id", "edit", access: .role(.analyst), use: edit)
        routes.secured(.POST, "response", ":id", "undo", access: .role(.analyst), use: undo)
        routes.secured(.POST, "incidents", ":id", "respond", access: .role(.analyst), use: respondFromIncident)
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func act(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(ActionForm.self)
        do {
            guard let kind = ResponseKind(parsing: form.kind ?? "") else {
                throw IncidentRefusal(.invalid, field: "kind", "choose block, rate limit, lock, watch or allow")
            }
            try Self.requireRole(for: kind, principal)
            let action = try await ResponseStore(database: request.db, sessions: request.secmon.sessions).apply(
                kind, target: form.target ?? "", minutes: kind == .allow && (form.minutes ?? 0) == 0 ? nil : form.minutes ?? 60,
                reason: form.reason ?? "", rate: form.rate, by: request.actor(principal))
            await request.secmon.runtime.responses.reload()
            return try await render(request, notice: ResponseStore.describe(action) + ".")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Nothing was done: \(refusal.field): \(refusal.reason).",
                                    kind: form.kind ?? "block", target: form.target ?? "", reason: form.reason ?? "")
        }
    }

    @Sendable func edit(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = try ResponseActionsAPI.id(request)
        let form = try request.content.decode(EditForm.self)
        do {
            let store = ResponseStore(database: request.db)
            if let existing = try await store.find(id), let kind = existing.responseKind { try Self.requireRole(for: kind, principal) }
            let action = try await store.edit(id, minutes: form.minutes == 0 ? nil : form.minutes, reason: FormValues.clean(form.reason, maxBytes: 500),
                                              by: request.actor(principal))
            await request.secmon.runtime.responses.reload()
            return try await render(request, notice: "Changed the \(ResponseStore.noun(action)) of \(action.target): \(ResponseStore.until(action.expires)).")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not changed: \(refusal.field): \(refusal.reason).")
        }
    }

    @Sendable func undo(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = try ResponseActionsAPI.id(request)
        do {
            let store = ResponseStore(database: request.db)
            if let existing = try await store.find(id), let kind = existing.responseKind { try Self.requireRole(for: kind, principal) }
            let action = try await store.undo(id, by: request.actor(principal))
            await request.secmon.runtime.responses.reload()
            if let incident = action.incidentID, request.headers.first(name: .referer)?.contains("/incidents/") == true {
                return request.redirect(to: "/incidents/\(incident)#response", redirectType: .normal)
            }
            return try await render(request, notice: "\(action.responseKind?.undoneTense ?? "Undid") \(action.target).")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not undone: \(refusal.reason).")
        }
    }

    @Sendable func respondFromIncident(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = try IncidentsController.id(request)
        let form = try request.content.decode(ActionForm.self)
        do {
            guard let incident = try await IncidentStore(database: request.db).find(id) else { throw IncidentStore.notFound(id) }
            guard let kind = ResponseKind(parsing: form.kind ?? "") else {
                throw IncidentRefusal(.invalid, field: "kind", "choose block, rate limit, lock or watch")
            }
            try Self.requireRole(for: kind, principal)
            let reason = FormValues.clean(form.reason, maxBytes: 500) ?? "incident: \(incident.title)"
            _ = try await ResponseStore(database: request.db, sessions: request.secmon.sessions).apply(
                kind, target: form.target ?? "", minutes: form.minutes ?? 60, reason: reason, incident: id, rate: form.rate, by: request.actor(principal))
            await request.secmon.runtime.responses.reload()
        } catch let refusal as IncidentRefusal {
            if refusal.kind == .notFound && refusal.field == "id" { throw refusal }
            return try await IncidentsController().render(request, id: id, status: refusal.httpStatus, error: "Nothing was done: \(refusal.field): \(refusal.reason).")
        }
        return request.redirect(to: "/incidents/\(id)#response", redirectType: .normal)
    }

    /// Allowlist entries are administrators' (they turn protection off for an address or user).
    static func requireRole(for kind: ResponseKind, _ principal: Principal) throws {
        if kind == .allow, !principal.role.includes(.admin) {
            throw Abort(.forbidden, reason: "Only administrators change the allowlist.")
        }
    }

    /// `in-force`, `expired`, `undone` or `dry-run`.
    static func state(_ action: ResponseStore.Action, now: Timestamp) -> String {
        action.dryRun ? "dry-run" : action.undone != nil ? "undone" : action.isActive(at: now) ? "in-force" : "expired"
    }

    /// The ids of the loaded rules that raise alerts (what a policy may name).
    static func ruleIDs(_ request: Request) -> Set<String> {
        Set(ruleTitles(request).keys)
    }

    /// The loaded rules that raise alerts: id → title.
    static func ruleTitles(_ request: Request) -> [String: String] {
        guard let set = request.secmon.runtime.detection?.rules else { return [:] }
        var titles: [String: String] = [:]
        for node in 0..<set.count where set.raisesAlerts(node: node) {
            let info = set.info(ofNode: node)
            titles[info.label] = info.title
        }
        return titles
    }

    static func row(_ action: ResponseStore.Action, now: Timestamp) -> Row {
        let state = state(action, now: now)
        return Row(id: action.id, kind: action.kind, kindLabel: action.responseKind?.noun ?? action.kind, target: action.target, reason: action.reason,
                   actor: action.actor, created: FormValues.display(action.created),
                   expires: action.expires.map { FormValues.display($0) } ?? "until undone", state: state.replacingOccurrences(of: "-", with: " "),
                   active: state == "in-force", dryRun: action.dryRun, rate: action.rate, rule: action.rule, alert: action.alertID,
                   incident: action.incidentID, undoneBy: action.undoneBy, summary: ResponseStore.describe(action))
    }

    static let sectionTitles: [(ResponseKind, String, String)] = [
        (.block, "Blocked sources", "Nothing is blocked."),
        (.rateLimit, "Rate limits", "No source is rate-limited."),
        (.lock, "Locked accounts", "No account is locked by a response."),
        (.watch, "Watchlist", "Nothing is on the watchlist."),
        (.allow, "Allowlist", "Only the built-in entries (127.0.0.1, ::1) and the addresses administrators are logged in from."),
    ]

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil,
                        kind: String = "block", target: String = "", reason: String = "") async throws -> Response {
        let principal = try request.requirePrincipal()
        let store = ResponseStore(database: request.db)
        let now = Timestamp.now()
        let active = try await store.active()
        let sections = Self.sectionTitles.map { entry in
            Section(kind: entry.0.rawValue, title: entry.1, empty: entry.2,
                    rows: active.filter { $0.kind == entry.0.rawValue }.map { Self.row($0, now: now) },
                    canChange: entry.0 != .allow || principal.role.includes(.admin))
        }
        let kinds = ResponseKind.allCases.filter { $0 != .allow || principal.role.includes(.admin) }.map {
            Choice(value: $0.rawValue, label: $0 == .rateLimit ? "Rate-limit" : $0.rawValue.prefix(1).uppercased() + $0.rawValue.dropFirst(), selected: $0.rawValue == kind)
        }
        let list = request.secmon.runtime.responses
        let context = Context(
            user: LayoutUser(principal), sections: sections, history: try await store.recent(limit: 100).map { Self.row($0, now: now) },
            refused: list.refusedRequests, limited: list.limitedRequests, evicted: list.evictedBuckets, dryRunMode: request.secmon.config.responseDryRun,
            notice: notice, error: error, kind: kind, target: target, reason: reason, kinds: kinds)
        let response = try await request.view.render("response", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
