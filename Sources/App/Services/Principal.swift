import Foundation
import SecurityModel

/// The logged-in user behind a request, and the session they came in with.
public struct Principal: Sendable, Equatable {
    /// Hex SHA-256 of the session cookie (the `sessions` key).
    public var sessionDigest: String
    public var userID: UUID
    public var username: String
    public var role: Role
    /// Until the password is changed, only the password page and logout are reachable.
    public var mustChangePassword: Bool
    /// Token that this session's state-changing requests must carry (empty for an API token).
    public var csrfToken: String
    /// The API token's name, when the request came with a token rather than a session cookie. A
    /// token is not sent by browsers on their own, so its requests need no CSRF token.
    public var tokenName: String? = nil

    /// The session's reference in the activity log (`token:NAME` for an API token).
    public var sessionRef: String { tokenName.map { "token:\($0)" } ?? SessionToken.logReference(forDigest: sessionDigest) }
}
