import Vapor

/// Reads the session cookie and sets `request.principal` when it names a valid session.
struct SessionAuthenticator: AsyncMiddleware {
    /// Name of the session cookie.
    static let cookieName = "secmon_session"
    let sessions: SessionStore

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let token = request.cookies[SessionAuthenticator.cookieName]?.string, !token.isEmpty, token.count <= 128 {
            request.principal = try await sessions.principal(forToken: token)
        }
        return try await next.respond(to: request)
    }
}
