import Fluent
import Foundation
import SecurityModel

/// Account management shared by the web pages and `secmon user`: one place for the rules.
public struct UserService: Sendable {
    /// Why an account change was refused, in words a person can act on.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    let database: any Database
    let hasher: PasswordHasher

    public init(database: any Database, hasher: PasswordHasher) {
        self.database = database
        self.hasher = hasher
    }

    /// Letters, digits and `._-@`, 1 to 64 characters; stored lower-case.
    public static func normalise(username: String) throws -> String {
        let name = username.trimmingCharacters(in: .whitespaces).lowercased()
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789._-@")
        guard (1...64).contains(name.count), name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw Refusal(message: "user names are 1 to 64 characters: letters, digits, '.', '_', '-' and '@'")
        }
        return name
    }

    /// At least 12 characters, at most 72 bytes (bcrypt's limit), not the user name.
    public static func check(password: String, username: String) throws {
        guard password.count >= 12 else { throw Refusal(message: "the password must have at least 12 characters") }
        guard password.utf8.count <= 72 else { throw Refusal(message: "the password must be at most 72 bytes long (bcrypt's limit)") }
        // bcrypt stops at the first NUL: "NUL + 11 characters" would pass the length rule and hash as empty.
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Refusal(message: "the password must not contain control characters (NUL, tab, newline, escape)")
        }
        guard password.lowercased() != username.lowercased() else { throw Refusal(message: "the password must not be the user name") }
    }

    /// The user called `username`, if any.
    public func find(_ username: String) async throws -> UserRecord? {
        guard let name = try? UserService.normalise(username: username) else { return nil }
        return try await UserRecord.query(on: database).filter(\.$username == name).first()
    }

    /// The user with `id`, or a refusal naming it.
    public func find(id: UUID) async throws -> UserRecord {
        guard let user = try await UserRecord.find(id, on: database) else { throw Refusal(message: "no user with id \(id)") }
        return user
    }

    /// Every user, by name.
    public func all() async throws -> [UserRecord] {
        try await UserRecord.query(on: database).sort(\.$username).all()
    }

    /// Creates a user. With `password == nil` a random one is made and returned; either way
    /// `mustChangePassword` decides whether it has to be changed at first login.
    public func create(username: String, role: Role, password: String?, mustChangePassword: Bool) async throws -> (UserRecord, String) {
        let name = try UserService.normalise(username: username)
        let chosen = password ?? SessionToken.randomPassword()
        try UserService.check(password: chosen, username: name)
        if try await find(name) != nil { throw Refusal(message: "a user called '\(name)' already exists") }
        let user = UserRecord(username: name, passwordHash: try await hasher.hash(chosen), role: role, mustChangePassword: mustChangePassword)
        try await user.create(on: database)
        return (user, chosen)
    }

    /// Sets a new password. With `password == nil` a random one is made and returned.
    public func setPassword(_ user: UserRecord, to password: String?, mustChange: Bool) async throws -> String {
        let chosen = password ?? SessionToken.randomPassword()
        try UserService.check(password: chosen, username: user.username)
        user.passwordHash = try await hasher.hash(chosen)
        user.mustChangePassword = mustChange
        user.failedLogins = 0
        user.lockedUntil = nil
        try await user.save(on: database)
        return chosen
    }

    /// Changes the role; refuses to demote the last administrator.
    public func setRole(_ user: UserRecord, to role: Role) async throws {
        if user.role == .admin, role != .admin { try await requireAnotherAdmin(than: user) }
        user.role = role
        try await user.save(on: database)
    }

    /// Locks (or unlocks) the account; refuses to lock the last administrator. Unlocking also
    /// clears an automatic lock and the failure count.
    public func setLocked(_ user: UserRecord, _ locked: Bool) async throws {
        if locked, user.role == .admin { try await requireAnotherAdmin(than: user) }
        user.locked = locked
        if !locked {
            user.lockedUntil = nil
            user.failedLogins = 0
        }
        try await user.save(on: database)
    }

    private func requireAnotherAdmin(than user: UserRecord) async throws {
        let others = try await UserRecord.query(on: database)
            .filter(\.$roleName == Role.admin.rawValue).filter(\.$locked == false)
            .filter(\.$id != user.requireID()).count()
        guard others > 0 else {
            throw Refusal(message: "'\(user.username)' is the last active administrator; make another user admin first")
        }
    }
}
