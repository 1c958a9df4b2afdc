import Incidents
import SecurityModel
import Vapor

/// The response page (analysts): the blocks in force with their reason, incident and expiry, the
/// history, a form to block an address or network, and undo; and blocking a source from an
/// incident's page. Each change takes effect at once on this node (and within seconds on nodes
/// sharing the database).
struct ResponseController {
    struct BlockForm: Content {
        var target: String?
        var minutes: Int?
        var reason: String?
    }

    struct Row: Encodable {
        var id: String
        var target: String
        var reason: String
        var actor: String
        var created: String
        var expires: String
        var state: String
        var incident: String?
        var undoneBy: String?
    }

    struct Context: Encodable {
        var title = "Response"
        var user: LayoutUser
        var active: [Row]
        var history: [Row]
        var refused: Int
        var notice: String?
        var error: String?
        var target: String
        var reason: String
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "response", access: .role(.analyst), use: page)
        routes.secured(.POST, "response", "block", access: .role(.analyst), use: block)
        routes.secured(.POST, "response", ":id", "undo", access: .role(.analyst), use: undo)
        routes.secured(.POST, "incidents", ":id", "block", access: .role(.analyst), use: blockFromIncident)
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func block(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(BlockForm.self)
        do {
            let action = try await ResponseStore(database: request.db).block(
                form.target ?? "", minutes: form.minutes ?? 60, reason: form.reason ?? "", incident: nil, by: request.actor(principal))
            await request.secmon.runtime.blocks.reload()
            return try await render(request, notice: "Blocked \(action.target) until \(FormValues.display(action.expires)) UTC.")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not blocked: \(refusal.field): \(refusal.reason).",
                                    target: form.target ?? "", reason: form.reason ?? "")
        }
    }

    @Sendable func undo(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let id = request.parameters.get("id"), id.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "id", "the action id in the path is missing or too long")
        }
        do {
            let action = try await ResponseStore(database: request.db).undo(id, by: request.actor(principal))
            await request.secmon.runtime.blocks.reload()
            if let incident = action.incidentID, request.headers.first(name: .referer)?.contains("/incidents/") == true {
                return request.redirect(to: "/incidents/\(incident)#response", redirectType: .normal)
            }
            return try await render(request, notice: "Unblocked \(action.target).")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not undone: \(refusal.reason).")
        }
    }

    @Sendable func blockFromIncident(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = try IncidentsController.id(request)
        let form = try request.content.decode(BlockForm.self)
        do {
            guard let incident = try await IncidentStore(database: request.db).find(id) else { throw IncidentStore.notFound(id) }
            let reason = FormValues.clean(form.reason, maxBytes: 500) ?? "incident: \(incident.title)"
            _ = try await ResponseStore(database: request.db).block(form.target ?? "", minutes: form.minutes ?? 60, reason: reason,
                                                                    incident: id, by: request.actor(principal))
            await request.secmon.runtime.blocks.reload()
        } catch let refusal as IncidentRefusal {
            if refusal.kind == .notFound && refusal.field == "id" { throw refusal }
            return try await IncidentsController().render(request, id: id, status: refusal.httpStatus, error: "Not blocked: \(refusal.field): \(refusal.reason).")
        }
        return request.redirect(to: "/incidents/\(id)#response", redirectType: .normal)
    }

    static func row(_ action: ResponseStore.Action, now: Timestamp) -> Row {
        Row(id: action.id, target: action.target, reason: action.reason, actor: action.actor, created: FormValues.display(action.created),
            expires: action.expires.map { FormValues.display($0) } ?? "until undone",
            state: action.undone != nil ? "undone" : action.isActive(at: now) ? "in force" : "expired",
            incident: action.incidentID, undoneBy: action.undoneBy)
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil,
                        target: String = "", reason: String = "") async throws -> Response {
        let principal = try request.requirePrincipal()
        let store = ResponseStore(database: request.db)
        let now = Timestamp.now()
        let context = Context(
            user: LayoutUser(principal), active: try await store.activeBlocks().map { Self.row($0, now: now) },
            history: try await store.recent(limit: 100).map { Self.row($0, now: now) },
            refused: request.secmon.runtime.blocks.refusedRequests, notice: notice, error: error, target: target, reason: reason)
        let response = try await request.view.render("response", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
