import Vapor

/// Reads the session cookie and sets `request.principal` when it names a valid session.
struct SessionAuthenticator: Sendable {
    /// Name of the session cookie.
    static let cookieName = "secmon_session"
    let sessions: SessionStore

    func authenticate(_ request: Request) async throws {
        guard let token = request.cookies[SessionAuthenticator.cookieName]?.string, !token.isEmpty, token.count <= 128 else { return }
        request.principal = try await sessions.principal(forToken: token)
    }
}
