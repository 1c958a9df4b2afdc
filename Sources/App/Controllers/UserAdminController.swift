import Fluent
import Foundation
import SecurityModel
import Vapor

/// The administrators' user management page. Each action answers with the page itself and a
/// notice; a generated password is shown once, on that answer only.
struct UserAdminController {
    struct CreateForm: Content {
        var username: String?
        var role: String?
    }

    struct RoleForm: Content {
        var role: String?
    }

    func register(_ routes: any RoutesBuilder) {
        let admin = routes.grouped("admin", "users")
        admin.secured(.GET, access: .role(.admin), use: list)
        admin.secured(.POST, access: .role(.admin), use: create)
        admin.secured(.POST, ":id", "role", access: .role(.admin), use: changeRole)
        admin.secured(.POST, ":id", "lock", access: .role(.admin), use: lock)
        admin.secured(.POST, ":id", "unlock", access: .role(.admin), use: unlock)
        admin.secured(.POST, ":id", "reset-password", access: .role(.admin), use: resetPassword)
    }

    @Sendable func list(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func create(_ request: Request) async throws -> Response {
        let form = try request.content.decode(CreateForm.self)
        guard let role = Role(rawValue: form.role ?? "") else {
            return try await render(request, status: .badRequest, error: "Choose a role: viewer, analyst or admin.")
        }
        do {
            let (user, password) = try await request.users.create(
                username: form.username ?? "", role: role, password: nil, mustChangePassword: true
            )
            await request.audit("user.create", target: "user:\(user.username)", after: "role \(role.rawValue)")
            return try await render(request, notice: "Created \(user.username) (\(role.rawValue)). Give them this one-time password; they must change it at first login:", secret: password)
        } catch let refusal as UserService.Refusal {
            return try await render(request, status: .badRequest, error: "Not created: \(refusal.message).")
        }
    }

    @Sendable func changeRole(_ request: Request) async throws -> Response {
        let user = try await target(request)
        let form = try request.content.decode(RoleForm.self)
        guard let role = Role(rawValue: form.role ?? "") else {
            return try await render(request, status: .badRequest, error: "Choose a role: viewer, analyst or admin.")
        }
        let before = user.role.rawValue
        return try await apply(request, to: user, done: "\(user.username) is now \(role.rawValue).") {
            try await request.users.setRole(user, to: role)
            await request.audit("user.role", target: "user:\(user.username)", before: before, after: role.rawValue)
            request.secmon.sessions.forget(userID: try user.requireID())
        }
    }

    @Sendable func lock(_ request: Request) async throws -> Response {
        let user = try await target(request)
        guard user.id != request.principal?.userID else {
            return try await render(request, status: .badRequest, error: "You cannot lock your own account.")
        }
        return try await apply(request, to: user, done: "\(user.username) is locked and logged out.") {
            try await request.users.setLocked(user, true)
            await request.audit("user.lock", target: "user:\(user.username)", after: "locked")
            try await request.secmon.sessions.endAll(userID: try user.requireID())
        }
    }

    @Sendable func unlock(_ request: Request) async throws -> Response {
        let user = try await target(request)
        return try await apply(request, to: user, done: "\(user.username) is unlocked.") {
            try await request.users.setLocked(user, false)
            await request.audit("user.unlock", target: "user:\(user.username)", after: "unlocked")
            // A lock by active response too (undone with its own audit row and timeline line).
            let responses = ResponseStore(database: request.db)
            if let lock = try await responses.activeLock(user: user.username) {
                _ = try await responses.undo(lock.id, by: request.actor(try request.requirePrincipal()))
            }
        }
    }

    @Sendable func resetPassword(_ request: Request) async throws -> Response {
        let user = try await target(request)
        do {
            let password = try await request.users.setPassword(user, to: nil, mustChange: true)
            try await request.secmon.sessions.endAll(userID: try user.requireID())
            await request.audit("user.reset-password", target: "user:\(user.username)", after: "one-time password issued; sessions ended")
            return try await render(request, notice: "New one-time password for \(user.username) (their sessions were ended; they must change it at next login):", secret: password)
        } catch let refusal as UserService.Refusal {
            return try await render(request, status: .badRequest, error: refusal.message)
        }
    }

    private func apply(_ request: Request, to user: UserRecord, done: String, _ change: () async throws -> Void) async throws -> Response {
        do {
            try await change()
            return try await render(request, notice: done)
        } catch let refusal as UserService.Refusal {
            return try await render(request, status: .badRequest, error: "Not changed: \(refusal.message).")
        }
    }

    private func target(_ request: Request) async throws -> UserRecord {
        guard let id = request.parameters.get("id", as: UUID.self) else {
            throw Abort(.badRequest, reason: "The user id in the path is not a UUID.")
        }
        guard let user = try await UserRecord.find(id, on: request.db) else {
            throw Abort(.notFound, reason: "There is no user with id \(id).")
        }
        return user
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil, secret: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let now = Date()
        var responseLocks: [String: String] = [:]
        for lock in try await ResponseStore(database: request.db).active([.lock]) where lock.target.hasPrefix("user:") {
            responseLocks[String(lock.target.dropFirst(5))] = "locked by response \(ResponseStore.until(lock.expires))" + (lock.rule.map { " (policy of \($0))" } ?? " (by \(lock.actor))")
        }
        let rows = try await request.users.all().map { user in
            UserRow(
                id: try user.requireID().uuidString.lowercased(), username: user.username, role: user.role.rawValue,
                locked: user.locked, autoLocked: !user.locked && user.isLocked(at: now), responseLock: responseLocks[user.username],
                mustChangePassword: user.mustChangePassword,
                lastLogin: user.lastLoginAt.map { Timestamp(secondsSince1970: $0.timeIntervalSince1970).iso8601.prefix(19) + "Z" } ?? "never",
                isSelf: user.id == principal.userID
            )
        }
        let context = UsersContext(user: LayoutUser(principal), users: rows, roles: Role.allCases.map(\.rawValue),
                                   notice: notice, error: error, secret: secret)
        let response = try await request.view.render("users", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
