import Fluent
import Foundation
import SecurityModel
import SQLKit
import Vapor

/// Login and logout.
///
/// A failed login never says why: unknown user, wrong password and locked account all get the
/// same message after the same amount of work (a bcrypt comparison against a decoy hash when the
/// user does not exist). The session id is new at every login (the old one, if any, is ended).
///
/// Failed logins never lock an account (that would let anyone lock out anyone): ``LoginGuard``
/// throttles them per source and per (user, source) before any hashing, and spares browsers that
/// logged in before (a signed device cookie).
struct AuthController {
    /// Cookie holding the login form's CSRF token (double submit: cookie and form field must match).
    static let loginCSRFCookie = "secmon_login_csrf"
    static let genericFailure = "Invalid user name or password, or the account is locked."

    struct LoginForm: Content {
        var username: String?
        var password: String?
        var csrf_token: String?
        var next: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "login", access: .anyone, use: loginPage)
        routes.secured(.POST, "login", access: .anyone, use: login)
        routes.secured(.POST, "logout", access: .loggedIn, use: logout)
    }

    @Sendable func loginPage(_ request: Request) async throws -> Response {
        let next = AuthController.safeNext(try? request.query.get(String.self, at: "next"))
        if request.principal != nil { return request.redirect(to: next) }
        return try await renderLogin(request, status: .ok, next: next, username: "", error: nil)
    }

    @Sendable func login(_ request: Request) async throws -> Response {
        request.activity.action = .loginFailure
        let form = try request.content.decode(LoginForm.self)
        let attempted = (form.username ?? "").prefix(utf8Bytes: AuthController.maxUsernameBytes)
        request.activity.attemptedUsername = attempted
        let next = AuthController.safeNext(form.next)
        guard let cookieToken = request.cookies[AuthController.loginCSRFCookie]?.string, let formToken = form.csrf_token,
              SessionToken.equal(cookieToken, formToken) else {
            // No password was checked: this is not a failed login (it must not feed brute-force
            // rules, nor let anyone write failures for any name without a form), it is a refused post.
            request.activity.action = .loginRejected
            return try await renderLogin(request, status: .forbidden, next: next, username: attempted,
                                         error: "The login form expired. Please try again.")
        }
        // Throttling comes before any lookup or hashing: a throttled attempt costs almost nothing.
        let loginGuard = request.secmon.loginGuard
        let key = attempted.lowercased()
        let clock = loginGuard.now()
        let device = loginGuard.device(cookie: request.cookies[LoginGuard.cookieName]?.string, user: key, now: clock)
        if case .throttle(let retryAfter, let why) = loginGuard.decide(user: key, source: request.clientIP, device: device, now: clock) {
            request.activity.action = .loginThrottled
            let response = try await renderLogin(request, status: .tooManyRequests, next: next, username: attempted,
                                                 error: "Too many failed logins: \(why). Try again in \(retryAfter) second\(retryAfter == 1 ? "" : "s").")
            response.headers.replaceOrAdd(name: .retryAfter, value: String(retryAfter))
            return response
        }
        let users = request.users
        let user = try await users.find(attempted)
        let now = Date()
        let passwordMatches: Bool
        do {
            passwordMatches = try await request.secmon.hasher.verify(form.password ?? "", against: user?.passwordHash, reserved: device != nil)
        } catch is PasswordHasher.Busy {
            let response = try await renderLogin(request, status: .tooManyRequests, next: next, username: attempted,
                                                 error: "Too many logins are being checked right now; try again in a moment.")
            response.headers.replaceOrAdd(name: .retryAfter, value: "1")
            return response
        }
        if !passwordMatches { loginGuard.failure(user: key, source: request.clientIP, device: device, now: clock) }
        // Locked by an administrator, or by active response (a login that succeeded after many failures).
        let responseLock = passwordMatches ? try await ResponseStore(database: request.db).activeLock(user: key) : nil
        guard let user, passwordMatches, !user.isLocked(at: now), responseLock == nil else {
            await request.audit("login.failure", target: "user:\(attempted)", name: "anonymous")
            return try await renderLogin(request, status: .unauthorized, next: next, username: attempted,
                                         error: AuthController.genericFailure)
        }
        loginGuard.success(user: key, source: request.clientIP, device: device)
        // Rotation: whatever session the browser had ends here; the login gets a new one.
        if let old = request.cookies[SessionAuthenticator.cookieName]?.string {
            try await request.secmon.sessions.end(digest: SessionToken.digest(old))
        }
        user.failedLogins = 0
        user.lockedUntil = nil
        user.lastLoginAt = now
        try await user.save(on: request.db)
        let (token, principal) = try await request.secmon.sessions.create(
            for: user, ipAddress: request.clientIP, userAgent: request.headers.first(name: .userAgent) ?? ""
        )
        request.principal = principal
        await request.audit("login.success", target: "user:\(principal.username)", after: "session \(principal.sessionRef)")
        request.activity = ActivityOverride(
            action: .loginSuccess, username: principal.username, userID: principal.userID.uuidString.lowercased(),
            sessionRef: principal.sessionRef
        )
        let response = request.redirect(to: principal.mustChangePassword ? "/account/password" : next, redirectType: .normal)
        response.cookies[SessionAuthenticator.cookieName] = CookieFactory.make(
            token, request: request, maxAge: request.secmon.config.sessionMaxSeconds
        )
        response.cookies[AuthController.loginCSRFCookie] = CookieFactory.expired(request: request, path: "/login")
        // This browser is now a known device for this user (login throttling spares it).
        response.cookies[LoginGuard.cookieName] = CookieFactory.make(
            loginGuard.cookie(for: key, now: clock), request: request, path: "/login", maxAge: LoginGuard.cookieDays * 86_400, sameSite: .strict)
        return response
    }

    @Sendable func logout(_ request: Request) async throws -> Response {
        if let principal = request.principal {
            try await request.secmon.sessions.end(digest: principal.sessionDigest)
            await request.audit("logout", target: "user:\(principal.username)")
        }
        request.activity.action = .logout
        let response = request.redirect(to: "/login", redirectType: .normal)
        response.cookies[SessionAuthenticator.cookieName] = CookieFactory.expired(request: request)
        return response
    }

    /// Counts a wrong current password on the password page atomically
    /// (several nodes may see attempts at once) and locks the account for `lockoutSeconds` when the
    /// count reaches `maxFailedLogins`. Returns whether it locked the account.
    static func recordFailure(of user: UserRecord, on request: Request, now: Date) async throws -> Bool {
        let config = request.secmon.config
        guard config.maxFailedLogins > 0, let sql = request.db as? any SQLDatabase, let id = user.id else { return false }
        try await sql.raw("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = \(bind: id)").run()
        let count = try await sql.raw("SELECT failed_logins FROM users WHERE id = \(bind: id)").first()?
            .decode(column: "failed_logins", as: Int.self) ?? 0
        if count >= config.maxFailedLogins {
            guard let fresh = try await UserRecord.find(id, on: request.db) else { return false }
            fresh.failedLogins = 0
            fresh.lockedUntil = now.addingTimeInterval(Double(config.lockoutSeconds))
            try await fresh.save(on: request.db)
            request.logger.notice("account locked after failed logins", metadata: ["user": "\(user.username)", "failures": "\(count)"])
            return true
        }
        return false
    }

    private func renderLogin(_ request: Request, status: HTTPResponseStatus, next: String, username: String, error: String?) async throws -> Response {
        let existing = request.cookies[AuthController.loginCSRFCookie]?.string
        let token = existing.flatMap { $0.count == 43 ? $0 : nil } ?? SessionToken.random()
        let context = LoginContext(csrfToken: token, next: next, username: username, error: error)
        let response = try await request.view.render("login", context).encodeResponse(for: request)
        response.status = status
        response.cookies[AuthController.loginCSRFCookie] = CookieFactory.make(
            token, request: request, path: "/login", maxAge: 3600, sameSite: .strict
        )
        return response
    }

    /// Only local paths (`/…`, not `//host` or `/\host`) are followed after login: no open redirect.
    /// Where to go after logging in: `next` when it is a path on this server, else `/`.
    ///
    /// Only a same-origin path is accepted: it starts with one `/`, and holds no backslash, no
    /// whitespace and no control character anywhere (browsers drop tabs and newlines inside URLs,
    /// so `/<TAB>/evil.example` would become `//evil.example`, and treat `\` as `/`).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.utf8.count <= 512, next.hasPrefix("/") else { return "/" }
        let scalars = next.unicodeScalars
        if scalars.count > 1, scalars[scalars.index(after: scalars.startIndex)] == "/" { return "/" }
        for scalar in scalars {
            if scalar == "\\" || scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format { return "/" }
        }
        return next
    }

    /// Longest user name recorded for a failed login, in UTF-8 bytes.
    static let maxUsernameBytes = 128
}
