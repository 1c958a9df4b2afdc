import EventPipeline
import Incidents
import LogFormats
import SecurityModel
import SQLKit

/// The `ingest_keys` table: what lets another host send log lines to `POST /ingest`. A key is
/// bound to a source name (the host's, which its events carry) and a format; it can do nothing
/// else (no page, no API), is shown once, kept as its SHA-256, and revoked at once.
public struct IngestKeyStore: Sendable {
    public static let table = "ingest_keys"
    /// Every key starts with this, so that a leaked one is recognisable (secret scanners, logs).
    public static let prefix = "smi_"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One key.
    public struct Record: Sendable, Equatable {
        public var id: String
        public var name: String
        public var format: LogFormat
        public var prefix: String
        public var createdBy: String
        public var created: Timestamp
        public var revokedBy: String?
        public var revoked: Timestamp?
    }

    /// The formats a host may send.
    public static let formats: [LogFormat] = [.syslog, .access, .json, .activity]

    /// Creates a key for source `name` sending `format`; answers it (shown once) and its record.
    public func create(name: String, format text: String, by actor: AuditTrail.Actor, now: Timestamp = .now()) async throws -> (key: String, record: Record) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw IncidentRefusal(.invalid, field: "name", "a source name has 1 to 64 letters, digits, '-', '_' or '.' (the sending host's name, such as web-2)")
        }
        guard let format = LogFormat(rawValue: text), Self.formats.contains(format) else {
            throw IncidentRefusal(.invalid, field: "format", "the format is one of \(Self.formats.map(\.rawValue).joined(separator: ", "))")
        }
        if try await database.raw("SELECT id FROM ingest_keys WHERE name = \(bind: name) AND revoked_ts IS NULL").first() != nil {
            throw IncidentRefusal(.conflict, field: "name", "'\(name)' has a key already; revoke it first, or choose another name")
        }
        let key = Self.prefix + SessionToken.random()
        let record = Record(id: EventID.make(at: now), name: name, format: format, prefix: String(key.prefix(10)), createdBy: actor.name, created: now)
        try await database.raw("""
            INSERT INTO ingest_keys (id, name, format, digest, prefix, created_by, created_ts)
            VALUES (\(bind: record.id), \(bind: name), \(bind: format.rawValue), \(bind: SessionToken.digest(key)), \(bind: record.prefix),
                    \(bind: actor.name), \(bind: now.microseconds))
            """).run()
        try await AuditTrail.record(.init(time: now, actor: actor, action: "ingest-key.create", target: "source:\(name)", after: "format \(format.rawValue)"),
                                    on: database)
        return (key, record)
    }

    /// Every key, newest first.
    public func all() async throws -> [Record] {
        try await database.raw("SELECT * FROM ingest_keys ORDER BY created_ts DESC").all().map(Self.record)
    }

    /// The key's record when it is valid (known and not revoked).
    public func find(key: String) async throws -> Record? {
        guard key.hasPrefix(Self.prefix), key.utf8.count <= 128 else { return nil }
        return try await database.raw("SELECT * FROM ingest_keys WHERE digest = \(bind: SessionToken.digest(key)) AND revoked_ts IS NULL")
            .first().map(Self.record)
    }

    /// Revokes key `id` at once.
    public func revoke(_ id: String, by actor: AuditTrail.Actor, now: Timestamp = .now()) async throws -> Record {
        guard let row = try await database.raw("SELECT * FROM ingest_keys WHERE id = \(bind: id)").first().map(Self.record) else {
            throw IncidentRefusal(.notFound, field: "id", "there is no ingest key \(id.prefix(64))")
        }
        guard row.revoked == nil else { throw IncidentRefusal(.conflict, field: "id", "the key of \(row.name) was revoked already") }
        try await database.raw("UPDATE ingest_keys SET revoked_by = \(bind: actor.name), revoked_ts = \(bind: now.microseconds) WHERE id = \(bind: id)").run()
        try await AuditTrail.record(.init(time: now, actor: actor, action: "ingest-key.revoke", target: "source:\(row.name)"), on: database)
        var revoked = row
        revoked.revoked = now
        revoked.revokedBy = actor.name
        return revoked
    }

    static func record(_ row: any SQLRow) throws -> Record {
        Record(id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
               format: LogFormat(rawValue: try row.decode(column: "format", as: String.self)) ?? .json,
               prefix: try row.decode(column: "prefix", as: String.self), createdBy: try row.decode(column: "created_by", as: String.self),
               created: Timestamp(microseconds: try row.decode(column: "created_ts", as: Int64.self)),
               revokedBy: try row.decode(column: "revoked_by", as: String?.self),
               revoked: try row.decode(column: "revoked_ts", as: Int64?.self).map { Timestamp(microseconds: $0) })
    }
}
