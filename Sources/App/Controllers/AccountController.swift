import Vapor

/// The user's own account: changing the password (forced after the first login or an admin reset).
struct AccountController {
    struct PasswordForm: Content {
        var current_password: String?
        var new_password: String?
        var confirm_password: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "account", "password", access: .loggedIn, use: page)
        routes.secured(.POST, "account", "password", access: .loggedIn, use: change)
    }

    @Sendable func page(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        return try await request.view.render("password", PasswordContext(user: LayoutUser(principal), error: nil, forced: principal.mustChangePassword))
    }

    @Sendable func change(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(PasswordForm.self)
        func fail(_ message: String) async throws -> Response {
            let context = PasswordContext(user: LayoutUser(principal), error: message, forced: principal.mustChangePassword)
            let response = try await request.view.render("password", context).encodeResponse(for: request)
            response.status = .badRequest
            return response
        }
        let users = request.users
        let user = try await users.find(id: principal.userID)
        let newPassword = form.new_password ?? ""
        guard try await request.secmon.hasher.verify(form.current_password ?? "", against: user.passwordHash) else {
            // Counted as a failed login: a stolen session cannot guess the password without limit.
            if try await AuthController.recordFailure(of: user, on: request, now: Date()) {
                await request.secmon.auditor.record(.init(actor: AuditTrail.Actor(name: "secmon", kind: .system, sourceIP: request.clientIP),
                                                          action: "user.auto-lock", target: "user:\(user.username)",
                                                          after: "locked after wrong current passwords on the password page"))
                try await request.secmon.sessions.endAll(userID: principal.userID)
                let response = request.redirect(to: "/login", redirectType: .normal)
                response.cookies[SessionAuthenticator.cookieName] = CookieFactory.expired(request: request)
                return response
            }
            await request.audit("user.password-failure", target: "user:\(user.username)", after: "wrong current password")
            return try await fail("The current password is not right.")
        }
        guard newPassword == form.confirm_password else { return try await fail("The two new passwords differ.") }
        guard newPassword != form.current_password else { return try await fail("Choose a password different from the current one.") }
        do {
            _ = try await users.setPassword(user, to: newPassword, mustChange: false)
        } catch let refusal as UserService.Refusal {
            return try await fail(refusal.message.prefix(1).uppercased() + refusal.message.dropFirst() + ".")
        }
        await request.audit("user.password", target: "user:\(user.username)", after: "password changed by the user")
        // Every other session of this user ends; this one is replaced by a new id.
        let sessions = request.secmon.sessions
        try await sessions.endAll(userID: principal.userID)
        let (token, fresh) = try await sessions.create(for: user, ipAddress: request.clientIP, userAgent: request.headers.first(name: .userAgent) ?? "")
        request.principal = fresh
        let response = request.redirect(to: "/", redirectType: .normal)
        response.cookies[SessionAuthenticator.cookieName] = CookieFactory.make(token, request: request, maxAge: request.secmon.config.sessionMaxSeconds)
        return response
    }
}

extension Request {
    /// The principal, or 401 (only reachable when a route's policy was misdeclared as `.anyone`).
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw Abort(.unauthorized, reason: "Log in first.") }
        return principal
    }
}
