import Fluent
import Foundation
import SecurityModel

/// A person who can log in. Table `users`.
public final class UserRecord: Model, @unchecked Sendable {
    public static let schema = "users"

    @ID(key: .id) public var id: UUID?
    /// Login name, stored lower-case; unique.
    @Field(key: "username") public var username: String
    /// bcrypt hash of the password.
    @Field(key: "password_hash") public var passwordHash: String
    /// `viewer`, `analyst` or `admin`.
    @Field(key: "role") public var roleName: String
    /// Locked by an administrator: cannot log in until unlocked.
    @Field(key: "locked") public var locked: Bool
    /// Failed logins since the last success.
    @Field(key: "failed_logins") public var failedLogins: Int
    /// Locked automatically after too many failures, until this time.
    @OptionalField(key: "locked_until") public var lockedUntil: Date?
    /// The password was set by someone else (or is the first one) and must be changed at the next login.
    @Field(key: "must_change_password") public var mustChangePassword: Bool
    @OptionalField(key: "last_login_at") public var lastLoginAt: Date?
    @TimestampProperty<UserRecord, DefaultTimestampFormat>(key: "created_at", on: .create) public var createdAt: Date?
    @TimestampProperty<UserRecord, DefaultTimestampFormat>(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    public init(id: UUID? = nil, username: String, passwordHash: String, role: Role, mustChangePassword: Bool) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.roleName = role.rawValue
        self.locked = false
        self.failedLogins = 0
        self.mustChangePassword = mustChangePassword
    }

    /// The user's role (an unknown stored value reads as the least privileged role).
    public var role: Role {
        get { Role(rawValue: roleName) ?? .viewer }
        set { roleName = newValue.rawValue }
    }

    /// Whether the account may not log in at `now` (locked by an admin, or automatically after failures).
    public func isLocked(at now: Date) -> Bool {
        locked || (lockedUntil.map { $0 > now } ?? false)
    }
}
