import Vapor

/// Sets `request.principal`: from an API token (`Authorization: Bearer smt_…`, on `/api/` routes
/// only), else from the session cookie when it names a valid session.
///
/// A token that is malformed, unknown, revoked or expired is refused (401, with why) rather than
/// ignored: a script should learn its token stopped working, not get "log in first". Each accepted
/// use is written to the audit trail (`token.use`, with the method and path).
struct SessionAuthenticator: Sendable {
    /// Name of the session cookie.
    static let cookieName = "secmon_session"
    let sessions: SessionStore
    let tokens: @Sendable () -> APITokenStore?
    let auditor: Auditor

    func authenticate(_ request: Request) async throws {
        if request.url.path.hasPrefix("/api/"), let authorization = request.headers.first(name: .authorization) {
            guard authorization.lowercased().hasPrefix("bearer "), let store = tokens() else {
                throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"],
                            reason: "Authorization: SecMon takes API tokens as 'Authorization: Bearer smt_…' (or a session cookie)")
            }
            let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
            do {
                let principal = try await store.principal(forToken: token, ip: request.clientIP)
                request.principal = principal
                await auditor.record(.init(actor: request.actor(principal), action: "token.use",
                                           target: "\(request.method.rawValue) \(request.url.path)".prefix(utf8Bytes: 512)))
            } catch let rejection as APITokenStore.Rejection {
                throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\""], reason: "Authorization: \(rejection.reason)")
            }
            return
        }
        guard let token = request.cookies[SessionAuthenticator.cookieName]?.string, !token.isEmpty, token.count <= 128 else { return }
        request.principal = try await sessions.principal(forToken: token)
    }
}
