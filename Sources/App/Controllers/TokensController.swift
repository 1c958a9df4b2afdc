import Incidents
import SecurityModel
import Vapor

/// API tokens (admins): create one (shown once), see each one's state and last use, revoke.
struct TokensController {
    struct CreateForm: Content {
        var name: String?
        var role: String?
        var days: Int?
    }

    struct Row: Encodable {
        var id: String
        var name: String
        var role: String
        var prefix: String
        var createdBy: String
        var created: String
        var expires: String
        var state: String
        var lastUsed: String
        var lastUsedIP: String
    }

    struct Context: Encodable {
        var title = "API tokens"
        var user: LayoutUser
        var tokens: [Row]
        var roles: [String]
        var notice: String?
        var error: String?
        var secret: String?
    }

    func register(_ routes: any RoutesBuilder) {
        let tokens = routes.grouped("admin", "tokens")
        tokens.secured(.GET, access: .role(.admin), use: list)
        tokens.secured(.POST, access: .role(.admin), use: create)
        tokens.secured(.POST, ":id", "revoke", access: .role(.admin), use: revoke)
    }

    @Sendable func list(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func create(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(CreateForm.self)
        do {
            guard let role = try FormValues.choice(form.role, field: "role", as: Role.self) else {
                throw IncidentRefusal(.invalid, field: "role", "choose the token's role: viewer, analyst or admin")
            }
            let (token, record) = try await APITokenStore(database: try request.sqlDatabase())
                .create(name: form.name ?? "", role: role, days: form.days ?? 90, by: request.actor(principal))
            return try await render(request, notice: "Created token \(record.name) (\(role.rawValue), expires \(FormValues.display(record.expires)) UTC). Copy it now: it is shown only this once.", secret: token)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not created: \(refusal.field): \(refusal.reason).")
        }
    }

    @Sendable func revoke(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let id = request.parameters.get("id"), id.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "id", "the token id in the path is missing or too long")
        }
        do {
            let record = try await APITokenStore(database: try request.sqlDatabase()).revoke(id: id, by: request.actor(principal))
            return try await render(request, notice: "Revoked \(record.name): it stops working at once.")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not revoked: \(refusal.reason).")
        }
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil, secret: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let now = Timestamp.now()
        let rows = try await APITokenStore(database: try request.sqlDatabase()).all().map { token in
            Row(id: token.id, name: token.name, role: token.role.rawValue, prefix: token.prefix, createdBy: token.createdBy,
                created: FormValues.display(token.created), expires: FormValues.display(token.expires), state: token.state(at: now),
                lastUsed: token.lastUsed.map { FormValues.display($0) } ?? "never", lastUsedIP: token.lastUsedIP ?? "")
        }
        let response = try await request.view.render("tokens", Context(user: LayoutUser(principal), tokens: rows, roles: Role.allCases.map(\.rawValue),
                                                                        notice: notice, error: error, secret: secret)).encodeResponse(for: request)
        response.status = status
        return response
    }
}
