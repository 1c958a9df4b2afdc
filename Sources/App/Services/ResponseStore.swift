import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The `response_actions` table: blocks of source addresses and networks (manual ones for now),
/// each with why, by whom and until when; undone by hand or expiring on time. Every change is one
/// transaction with its audit row, and with the incident's timeline line when it came from one.
public struct ResponseStore: Sendable {
    public static let table = "response_actions"
    /// Shortest and longest block, in minutes.
    public static let durations = 1...(366 * 24 * 60)

    let database: any Database
    let clock: @Sendable () -> Timestamp

    public init(database: any Database, clock: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.database = database
        self.clock = clock
    }

    /// One action.
    public struct Action: Sendable, Hashable {
        public var id: String
        public var kind: String
        public var target: String
        public var reason: String
        public var rule: String?
        public var alertID: String?
        public var incidentID: String?
        public var actor: String
        public var created: Timestamp
        public var expires: Timestamp?
        public var undone: Timestamp?
        public var undoneBy: String?

        /// In force at `now`: not undone and not expired.
        public func isActive(at now: Timestamp) -> Bool {
            undone == nil && (expires.map { $0.microseconds > now.microseconds } ?? true)
        }
    }

    /// Addresses that are never blocked: this machine (an administrator on the box is never locked
    /// out; `secmon simulate` attacks from other 127.x addresses and is blocked like anyone else).
    public static let builtInAllowlist = ["127.0.0.1", "::1"]

    /// Blocks `target` (an address or CIDR network) for `minutes`. Refused, naming the field, for
    /// a target that is not an address, an allowlisted one, the blocker's own address, or a
    /// duration out of range.
    public func block(_ target: String, minutes: Int, reason: String, incident: String?, by actor: AuditTrail.Actor) async throws -> Action {
        let text = target.trimmingCharacters(in: .whitespaces)
        guard text.utf8.count <= 64, let block = CIDRBlock(text) else {
            throw IncidentRefusal(.invalid, field: "target", "'\(text.prefix(64))' is not an address or network (192.0.2.7, 2001:db8::/48, 198.51.100.0/24)")
        }
        for allowed in Self.builtInAllowlist {
            if let address = IPAddress(allowed), block.contains(address) {
                throw IncidentRefusal(.invalid, field: "target", "\(block) contains \(allowed), which is on the allowlist (this machine): SecMon never blocks it")
            }
        }
        if let own = actor.sourceIP.flatMap(IPAddress.init), block.contains(own) {
            throw IncidentRefusal(.invalid, field: "target", "\(block) contains your own address \(own); blocking it would lock you out")
        }
        guard Self.durations.contains(minutes) else {
            throw IncidentRefusal(.invalid, field: "minutes", "a block lasts 1 minute to 366 days (\(Self.durations.upperBound) minutes)")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            throw IncidentRefusal(.invalid, field: "reason", "say why, in 1 to 500 bytes")
        }
        let now = clock()
        // A single address is written without its /32 or /128.
        let single = block.prefixLength == 128
        let action = Action(id: EventID.make(at: now), kind: "block", target: single ? block.network.description : block.description, reason: reason, rule: nil, alertID: nil,
                            incidentID: incident, actor: actor.name, created: now,
                            expires: Timestamp(microseconds: now.microseconds &+ Int64(minutes) * 60_000_000), undone: nil, undoneBy: nil)
        try await database.sqlTransaction { sql in
            if let incident {
                guard try await IncidentStore.load(incident, on: sql) != nil else { throw IncidentStore.notFound(incident) }
            }
            try await sql.raw("""
                INSERT INTO response_actions (id, kind, target, reason, incident_id, actor, created_ts, expires_ts)
                VALUES (\(bind: action.id), 'block', \(bind: action.target), \(bind: reason), \(bind: incident), \(bind: actor.name),
                        \(bind: now.microseconds), \(bind: action.expires?.microseconds))
                """).run()
            let until = FormValues.display(action.expires)
            if let incident {
                try await IncidentStore.addTimeline(incident, at: now, actor: actor.name, kind: "response",
                                                    "Blocked \(action.target) until \(until) UTC: \(reason)", on: sql)
            }
            try await AuditTrail.record(.init(time: now, actor: actor, action: "response.block", target: "ip:\(action.target)",
                                              after: "until \(until) UTC; \(reason)" + (incident.map { "; incident \($0)" } ?? "")), on: sql)
        }
        return action
    }

    /// Undoes an action that is still in force.
    public func undo(_ id: String, by actor: AuditTrail.Actor) async throws -> Action {
        let now = clock()
        return try await database.sqlTransaction { sql in
            guard let row = try await sql.raw("SELECT * FROM response_actions WHERE id = \(bind: id)").first() else {
                throw IncidentRefusal(.notFound, field: "id", "there is no response action \(id)")
            }
            let action = try Self.action(row)
            guard action.undone == nil else {
                throw IncidentRefusal(.conflict, field: "id", "the \(action.kind) of \(action.target) was already undone by \(action.undoneBy ?? "someone")")
            }
            guard action.isActive(at: now) else {
                throw IncidentRefusal(.conflict, field: "id", "the \(action.kind) of \(action.target) already expired at \(FormValues.display(action.expires)) UTC")
            }
            try await sql.raw("UPDATE response_actions SET undone_ts = \(bind: now.microseconds), undone_by = \(bind: actor.name) WHERE id = \(bind: id)").run()
            if let incident = action.incidentID {
                try await IncidentStore.addTimeline(incident, at: now, actor: actor.name, kind: "response", "Unblocked \(action.target)", on: sql)
            }
            try await AuditTrail.record(.init(time: now, actor: actor, action: "response.unblock", target: "ip:\(action.target)",
                                              before: "blocked until \(FormValues.display(action.expires)) UTC"), on: sql)
            var undone = action
            undone.undone = now
            undone.undoneBy = actor.name
            return undone
        }
    }

    /// Blocks in force now (the block list loads these).
    public func activeBlocks() async throws -> [Action] {
        let now = clock().microseconds
        return try await (database as! any SQLDatabase).raw("""
            SELECT * FROM response_actions WHERE kind = 'block' AND undone_ts IS NULL AND (expires_ts IS NULL OR expires_ts > \(bind: now))
            ORDER BY created_ts DESC
            """).all().map(Self.action)
    }

    /// Changes whenever a block is added or undone (how many there are, the newest, the latest undo).
    public func blocksFingerprint() async throws -> String {
        let row = try await (database as! any SQLDatabase).raw("""
            SELECT COUNT(*) AS n, MAX(created_ts) AS c, MAX(undone_ts) AS u FROM response_actions WHERE kind = 'block'
            """).first()
        let count = try row?.decode(column: "n", as: Int.self) ?? 0
        let created = try row?.decode(column: "c", as: Int64?.self) ?? 0
        let undone = try row?.decode(column: "u", as: Int64?.self) ?? 0
        return "\(count) \(created) \(undone)"
    }

    /// The newest actions (in force or not), optionally of one incident.
    public func recent(incident: String? = nil, limit: Int = 200) async throws -> [Action] {
        let sql = database as! any SQLDatabase
        var query = sql.select().column(SQLLiteral.all).from(Self.table)
        if let incident { query = query.where("incident_id", .equal, SQLBind(incident)) }
        return try await query.orderBy("created_ts", .descending).limit(limit).all().map(Self.action)
    }

    static func action(_ row: any SQLRow) throws -> Action {
        func time(_ column: String) throws -> Timestamp? { try row.decode(column: column, as: Int64?.self).map(Timestamp.init(microseconds:)) }
        return Action(id: try row.decode(column: "id", as: String.self), kind: try row.decode(column: "kind", as: String.self),
                      target: try row.decode(column: "target", as: String.self), reason: try row.decode(column: "reason", as: String.self),
                      rule: try row.decode(column: "rule", as: String?.self), alertID: try row.decode(column: "alert_id", as: String?.self),
                      incidentID: try row.decode(column: "incident_id", as: String?.self), actor: try row.decode(column: "actor", as: String.self),
                      created: Timestamp(microseconds: try row.decode(column: "created_ts", as: Int64.self)), expires: try time("expires_ts"),
                      undone: try time("undone_ts"), undoneBy: try row.decode(column: "undone_by", as: String?.self))
    }
}
