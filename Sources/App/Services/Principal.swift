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
    /// Token that this session's state-changing requests must carry.
    public var csrfToken: String

    /// The session's reference in the activity log.
    public var sessionRef: String { SessionToken.logReference(forDigest: sessionDigest) }
}
