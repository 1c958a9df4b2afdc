import Fluent
import Foundation

/// A login session. Table `sessions`.
///
/// The cookie holds a random token; the table holds only its SHA-256 (`id`), so a copy of the
/// database does not let anyone take over a session. Times are Unix seconds.
public final class SessionRecord: Model, @unchecked Sendable {
    public static let schema = "sessions"

    /// Hex SHA-256 of the cookie token.
    @ID(custom: "id", generatedBy: .user) public var id: String?
    @Parent(key: "user_id") public var user: UserRecord
    /// Token that state-changing requests of this session must echo (CSRF protection).
    @Field(key: "csrf_token") public var csrfToken: String
    @Field(key: "created_at") public var createdAt: Int64
    @Field(key: "last_seen_at") public var lastSeenAt: Int64
    @Field(key: "expires_at") public var expiresAt: Int64
    /// Client address at login.
    @Field(key: "ip_address") public var ipAddress: String
    /// Client `User-Agent` at login (truncated).
    @Field(key: "user_agent") public var userAgent: String

    public init() {}

    public init(id: String, userID: UUID, csrfToken: String, now: Int64, expiresAt: Int64, ipAddress: String, userAgent: String) {
        self.id = id
        self.$user.id = userID
        self.csrfToken = csrfToken
        self.createdAt = now
        self.lastSeenAt = now
        self.expiresAt = expiresAt
        self.ipAddress = ipAddress
        self.userAgent = userAgent
    }
}
