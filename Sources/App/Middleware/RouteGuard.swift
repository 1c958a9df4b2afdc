import Vapor

/// Enforces a route's `AccessPolicy` and CSRF protection.
///
/// - Not logged in: pages redirect to `/login?next=…`; the API and form posts get 401.
/// - Logged in but still on the initial password: pages redirect to the password page; the API gets 403.
/// - Missing role: 403.
/// - A state-changing request (anything but GET, HEAD, OPTIONS) of a logged-in user must carry the
///   session's CSRF token, in the `X-CSRF-Token` header or the `csrf_token` form field, and must
///   not come from another origin. The login form has its own pre-session check (`AuthController`).
///
/// A synchronous `Middleware` on purpose: it does no I/O (the session was read by
/// `SecMonMiddleware`), so it needs no hop off the event loop.
struct RouteGuard: Middleware {
    let policy: AccessPolicy
    /// The handler reads the body as it streams in: the token comes from the query, not the body.
    var streamed = false

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let principal = request.principal
        if !policy.allows(principal) {
            do { return request.eventLoop.makeSucceededFuture(try deny(request, principal: principal)) } catch {
                return request.eventLoop.makeFailedFuture(error)
            }
        }
        guard policy != .anyone, let principal, !RouteGuard.isSafe(request.method), principal.tokenName == nil else {
            return next.respond(to: request)
        }
        if let header = request.headers.first(name: "X-CSRF-Token") {
            return check(request, sent: header, expected: principal.csrfToken, next: next)
        }
        if streamed {
            return check(request, sent: request.query[String.self, at: "csrf_token"], expected: principal.csrfToken, next: next)
        }
        // The token is in the form body: make sure the body is all here before reading it.
        return request.body.collect(max: request.application.routes.defaultMaxBodySize.value).flatMap { _ in
            self.check(request, sent: RouteGuard.formToken(request), expected: principal.csrfToken, next: next)
        }
    }

    private func check(_ request: Request, sent: String?, expected: String, next: any Responder) -> EventLoopFuture<Response> {
        do {
            try RouteGuard.checkCSRF(request, sent: sent, expected: expected)
            return next.respond(to: request)
        } catch {
            return request.eventLoop.makeFailedFuture(error)
        }
    }

    static func isSafe(_ method: HTTPMethod) -> Bool {
        method == .GET || method == .HEAD || method == .OPTIONS
    }

    private func deny(_ request: Request, principal: Principal?) throws -> Response {
        guard let principal else {
            if !request.wantsJSON && request.method == .GET {
                let next = request.url.path + (request.url.query.map { "?\($0)" } ?? "")
                let encoded = next.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(.init(charactersIn: "&=+?"))) ?? "/"
                return request.redirect(to: "/login?next=\(encoded)", redirectType: .normal)
            }
            throw Abort(.unauthorized, reason: "Log in first: this needs a session (POST /login).")
        }
        if principal.mustChangePassword {
            if !request.wantsJSON && request.method == .GET {
                return request.redirect(to: "/account/password", redirectType: .normal)
            }
            throw Abort(.forbidden, reason: "Change the initial password first (/account/password).")
        }
        throw Abort(.forbidden, reason: "Your role (\(principal.role.rawValue)) may not do this; it needs \(policy).")
    }

    /// Throws 403 unless `sent` is `expected` and the request comes from this site.
    static func checkCSRF(_ request: Request, sent: String?, expected: String) throws {
        if let origin = request.headers.first(name: .origin), origin != "null" {
            let host = request.headers.first(name: .host) ?? ""
            guard SameOrigin.matches(origin: origin, host: host, scheme: knownScheme(request)) else {
                throw Abort(.forbidden, reason: "Cross-origin request refused (Origin \(origin) is not this site).")
            }
        }
        guard let sent, SessionToken.equal(sent, expected) else {
            throw Abort(.forbidden, reason: "Missing or invalid CSRF token. Reload the page and try again.")
        }
    }

    /// How the request reached SecMon, when that is known: its own TLS, or a trusted proxy's word.
    static func knownScheme(_ request: Request) -> String? {
        if request.secmon.config.tlsCertificatePath != nil { return "https" }
        guard request.secmon.addresses.isTrusted(request.remoteAddress?.ipAddress),
              let proto = request.headers.first(name: "X-Forwarded-Proto")?.lowercased(), proto == "http" || proto == "https" else { return nil }
        return proto
    }

    static func formToken(_ request: Request) -> String? {
        guard request.headers.contentType == .urlEncodedForm else { return nil }
        return try? request.content.get(String.self, at: "csrf_token")
    }
}
