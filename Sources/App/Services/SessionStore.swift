import Fluent
import Foundation
import SecurityModel
import SQLKit
import Synchronization

/// Sessions in the database, so they survive restarts and are shared by every node, with a
/// short-lived cache in front so that an authenticated request usually costs no query.
///
/// Changes made on this node (logout, lock, password change) drop the cached entries at once;
/// another node notices within `cacheSeconds`.
public final class SessionStore: Sendable {
    private struct Cached {
        var principal: Principal
        var checkedAt: Int64
        var expiresAt: Int64
        var lastSeenAt: Int64
    }

    private let database: @Sendable () -> any Database
    private let idleSeconds: Int64
    private let maxSeconds: Int64
    private let cacheSeconds: Double
    private let now: @Sendable () -> Date
    private let cache = Mutex<[String: Cached]>([:])
    private static let cacheLimit = 50_000
    /// A session's `last_seen_at` is written at most this often.
    private static let touchInterval: Int64 = 60

    public init(
        database: @escaping @Sendable () -> any Database, idleSeconds: Int, maxSeconds: Int, cacheSeconds: Double,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.database = database
        self.idleSeconds = Int64(idleSeconds)
        self.maxSeconds = Int64(maxSeconds)
        self.cacheSeconds = cacheSeconds
        self.now = now
    }

    private var nowSeconds: Int64 { Int64(now().timeIntervalSince1970) }

    /// Starts a session for `user`; returns the cookie token and the principal.
    public func create(for user: UserRecord, ipAddress: String, userAgent: String) async throws -> (token: String, principal: Principal) {
        let token = SessionToken.random()
        let digest = SessionToken.digest(token)
        let now = nowSeconds
        let record = SessionRecord(
            id: digest, userID: try user.requireID(), csrfToken: SessionToken.random(), now: now,
            expiresAt: now + maxSeconds, ipAddress: ipAddress, userAgent: userAgent.prefix(utf8Bytes: 512)
        )
        try await record.create(on: database())
        let principal = Principal(
            sessionDigest: digest, userID: try user.requireID(), username: user.username, role: user.role,
            mustChangePassword: user.mustChangePassword, csrfToken: record.csrfToken
        )
        return (token, principal)
    }

    /// The principal of a valid session token, or `nil` (unknown, expired, idle too long, or user locked).
    public func principal(forToken token: String) async throws -> Principal? {
        let digest = SessionToken.digest(token)
        let now = nowSeconds
        if cacheSeconds > 0, let hit = cache.withLock({ $0[digest] }),
           Double(now - hit.checkedAt) < cacheSeconds, hit.expiresAt > now, hit.lastSeenAt + idleSeconds > now {
            return hit.principal
        }
        guard let sql = database() as? any SQLDatabase else { return nil }
        let row = try await sql.raw("""
            SELECT s.csrf_token, s.expires_at, s.last_seen_at, u.id AS user_id, u.username, u.role,
                   u.must_change_password, u.locked
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = \(bind: digest)
            """).first()
        guard let row else {
            cache.withLock { _ = $0.removeValue(forKey: digest) }
            return nil
        }
        let expiresAt = try row.decode(column: "expires_at", as: Int64.self)
        var lastSeenAt = try row.decode(column: "last_seen_at", as: Int64.self)
        // Only an administrator's lock ends sessions. The automatic lock after failed logins
        // blocks new logins only: otherwise anyone could log a user out by failing to log in as them.
        let locked = try row.decode(column: "locked", as: Bool.self)
        if expiresAt <= now || lastSeenAt + idleSeconds <= now || locked {
            try await end(digest: digest)
            return nil
        }
        if now - lastSeenAt >= SessionStore.touchInterval {
            try await sql.update(SessionRecord.schema).set("last_seen_at", to: SQLBind(now))
                .where("id", .equal, SQLBind(digest)).run()
            lastSeenAt = now
        }
        let principal = Principal(
            sessionDigest: digest,
            userID: try row.decode(column: "user_id", as: UUID.self),
            username: try row.decode(column: "username", as: String.self),
            role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .viewer,
            mustChangePassword: try row.decode(column: "must_change_password", as: Bool.self),
            csrfToken: try row.decode(column: "csrf_token", as: String.self)
        )
        if cacheSeconds > 0 {
            cache.withLock { cache in
                if cache.count >= SessionStore.cacheLimit { cache.removeAll(keepingCapacity: true) }
                cache[digest] = Cached(principal: principal, checkedAt: now, expiresAt: expiresAt, lastSeenAt: lastSeenAt)
            }
        }
        return principal
    }

    /// Ends one session.
    public func end(digest: String) async throws {
        cache.withLock { _ = $0.removeValue(forKey: digest) }
        try await SessionRecord.query(on: database()).filter(\.$id == digest).delete()
    }

    /// Ends every session of `userID`, except `keeping` (a session digest) if given.
    public func endAll(userID: UUID, keeping: String? = nil) async throws {
        cache.withLock { cache in
            cache = cache.filter { $0.value.principal.userID != userID || $0.key == keeping }
        }
        var query = SessionRecord.query(on: database()).filter(\.$user.$id == userID)
        if let keeping { query = query.filter(\.$id != keeping) }
        try await query.delete()
    }

    /// Drops cached entries of the user called `username` (their sessions were ended in the database).
    public func forget(username: String) {
        cache.withLock { cache in cache = cache.filter { $0.value.principal.username != username } }
    }

    /// Drops cached entries of `userID`, so a changed role or name is read again on the next request.
    public func forget(userID: UUID) {
        cache.withLock { cache in cache = cache.filter { $0.value.principal.userID != userID } }
    }

    /// Deletes sessions past their end (run periodically).
    public func purgeExpired() async throws -> Int {
        let now = nowSeconds
        let query = SessionRecord.query(on: database())
            .group(.or) { $0.filter(\.$expiresAt <= now).filter(\.$lastSeenAt <= now - idleSeconds) }
        let count = try await query.count()
        try await query.delete()
        return count
    }
}
