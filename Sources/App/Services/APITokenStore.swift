import EventPipeline
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// API tokens: credentials for scripts and other tools. An administrator creates one with a name,
/// a role and an expiry and sees it once; SecMon keeps only its SHA-256. A token acts with its role
/// (never more), on `/api/` routes only, and each use is recorded (last use on the token, a row in
/// the audit trail).
public struct APITokenStore: Sendable {
    public static let table = "api_tokens"
    /// Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
    public static let prefix = "smt_"
    /// Longest expiry, in days.
    public static let maxDays = 366

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One token as listed (never the token itself).
    public struct Record: Sendable, Hashable {
        public var id: String
        public var name: String
        public var role: Role
        /// The token's first characters, to tell tokens apart.
        public var prefix: String
        public var createdBy: String
        public var created: Timestamp
        public var expires: Timestamp
        public var revoked: Timestamp?
        public var revokedBy: String?
        public var lastUsed: Timestamp?
        public var lastUsedIP: String?

        /// `active`, `expired` or `revoked` at `now`.
        public func state(at now: Timestamp) -> String {
            if revoked != nil { return "revoked" }
            return expires.microseconds <= now.microseconds ? "expired" : "active"
        }
    }

    /// Why a token was not accepted (answered 401 with this reason).
    public struct Rejection: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Creates a token; returns it (shown once) and its record.
    public func create(name: String, role: Role, days: Int, by actor: AuditTrail.Actor, now: Timestamp = .now()) async throws -> (token: String, record: Record) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw IncidentRefusal(.invalid, field: "name", "a token name has 1 to 64 letters, digits, '-', '_', '.' or '@'")
        }
        guard (1...Self.maxDays).contains(days) else {
            throw IncidentRefusal(.invalid, field: "days", "a token expires after 1 to \(Self.maxDays) days")
        }
        if try await database.raw("SELECT id FROM api_tokens WHERE name = \(bind: name)").first() != nil {
            throw IncidentRefusal(.conflict, field: "name", "a token named '\(name)' exists; choose another name or revoke that one")
        }
        let token = Self.prefix + SessionToken.random()
        let record = Record(id: EventID.make(at: now), name: name, role: role, prefix: String(token.prefix(10)), createdBy: actor.name,
                            created: now, expires: Timestamp(microseconds: now.microseconds &+ Int64(days) * 86_400 * 1_000_000))
        try await database.raw("""
            INSERT INTO api_tokens (id, name, role, digest, prefix, created_by, created_ts, expires_ts)
            VALUES (\(bind: record.id), \(bind: name), \(bind: role.rawValue), \(bind: SessionToken.digest(token)), \(bind: record.prefix),
                    \(bind: actor.name), \(bind: now.microseconds), \(bind: record.expires.microseconds))
            """).run()
        try await AuditTrail.record(.init(time: now, actor: actor, action: "token.create", target: "token:\(name)",
                                          after: "role \(role.rawValue), expires \(record.expires.iso8601.prefix(10))"), on: database)
        return (token, record)
    }

    /// Every token, newest first.
    public func all() async throws -> [Record] {
        try await database.raw("SELECT * FROM api_tokens ORDER BY created_ts DESC").all().map(Self.record)
    }

    /// Revokes a token at once; returns it as it is now.
    public func revoke(id: String, by actor: AuditTrail.Actor, now: Timestamp = .now()) async throws -> Record {
        guard let row = try await database.raw("SELECT * FROM api_tokens WHERE id = \(bind: id)").first() else {
            throw IncidentRefusal(.notFound, field: "id", "there is no token \(id)")
        }
        let record = try Self.record(row)
        guard record.revoked == nil else { throw IncidentRefusal(.conflict, field: "id", "token '\(record.name)' is already revoked") }
        try await database.raw("UPDATE api_tokens SET revoked_ts = \(bind: now.microseconds), revoked_by = \(bind: actor.name) WHERE id = \(bind: id)").run()
        try await AuditTrail.record(.init(time: now, actor: actor, action: "token.revoke", target: "token:\(record.name)"), on: database)
        var revoked = record
        revoked.revoked = now
        revoked.revokedBy = actor.name
        return revoked
    }

    /// The principal a presented token stands for, after recording its use; throws a
    /// ``Rejection`` saying why a malformed, unknown, revoked or expired token is refused.
    public func principal(forToken token: String, ip: String, now: Timestamp = .now()) async throws -> Principal {
        guard token.hasPrefix(Self.prefix), token.utf8.count == Self.prefix.utf8.count + 43,
              token.utf8.dropFirst(Self.prefix.utf8.count).allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }) else {
            throw Rejection(reason: "the token is malformed: SecMon tokens are 'smt_' and 43 characters; send it as 'Authorization: Bearer smt_…'")
        }
        guard let row = try await database.raw("SELECT * FROM api_tokens WHERE digest = \(bind: SessionToken.digest(token))").first() else {
            throw Rejection(reason: "the token is not known (never issued, or issued by another SecMon)")
        }
        let record = try Self.record(row)
        if let revoked = record.revoked {
            throw Rejection(reason: "token '\(record.name)' was revoked at \(revoked.iso8601.prefix(19))Z; ask an administrator for a new one")
        }
        guard record.expires.microseconds > now.microseconds else {
            throw Rejection(reason: "token '\(record.name)' expired at \(record.expires.iso8601.prefix(19))Z; ask an administrator for a new one")
        }
        try await database.raw("UPDATE api_tokens SET last_used_ts = \(bind: now.microseconds), last_used_ip = \(bind: ip) WHERE id = \(bind: record.id)").run()
        return Principal(sessionDigest: "", userID: UUID(uuidString: record.id) ?? UUID(), username: "token:\(record.name)", role: record.role,
                         mustChangePassword: false, csrfToken: "", tokenName: record.name)
    }

    static func record(_ row: any SQLRow) throws -> Record {
        func time(_ column: String) throws -> Timestamp? { try row.decode(column: column, as: Int64?.self).map(Timestamp.init(microseconds:)) }
        return Record(id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
                      role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .viewer,
                      prefix: try row.decode(column: "prefix", as: String.self), createdBy: try row.decode(column: "created_by", as: String.self),
                      created: Timestamp(microseconds: try row.decode(column: "created_ts", as: Int64.self)),
                      expires: Timestamp(microseconds: try row.decode(column: "expires_ts", as: Int64.self)),
                      revoked: try time("revoked_ts"), revokedBy: try row.decode(column: "revoked_by", as: String?.self),
                      lastUsed: try time("last_used_ts"), lastUsedIP: try row.decode(column: "last_used_ip", as: String?.self))
    }
}
