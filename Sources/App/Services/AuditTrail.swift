import EventPipeline
import Foundation
import SecurityModel
import SQLKit

/// The append-only audit table: who did what to what, with the value before and after, from
/// where, and when. Writers call ``record(_:on:)`` inside the transaction of the change it
/// describes, so a change and its audit row are written together or not at all.
public struct AuditTrail: Sendable {
    public static let table = "audit_log"

    /// Who acted: a person (their user name and address) or SecMon itself.
    public struct Actor: Sendable, Hashable {
        public enum Kind: String, Sendable { case user, system }
        public var name: String
        public var kind: Kind
        public var sourceIP: String?

        public init(name: String, kind: Kind, sourceIP: String?) {
            self.name = name
            self.kind = kind
            self.sourceIP = sourceIP
        }

        /// SecMon itself (the pipeline, startup, the purger).
        public static let secmon = Actor(name: "secmon", kind: .system, sourceIP: nil)

        public static func user(_ name: String, ip: String?) -> Actor { Actor(name: name, kind: .user, sourceIP: ip) }
    }

    /// One action.
    public struct Entry: Sendable, Hashable {
        public var seq: Int64 = 0
        public var time: Timestamp
        public var actor: Actor
        /// Dotted verb: `login.success`, `user.lock`, `incident.status`, `rules.reload`.
        public var action: String
        /// What it was done to: `user:alice`, `incident:<id>`, `rules`.
        public var target: String
        public var before: String?
        public var after: String?

        public init(time: Timestamp = .now(), actor: Actor, action: String, target: String, before: String? = nil, after: String? = nil) {
            self.time = time
            self.actor = actor
            self.action = action
            self.target = target
            self.before = before
            self.after = after
        }
    }

    /// Most UTF-8 bytes kept of a before or after value.
    static let maxValueBytes = 4096

    /// Appends `entry` on `database` (a transaction's connection when the change has one).
    public static func record(_ entry: Entry, on database: any SQLDatabase) async throws {
        try await database.raw("""
            INSERT INTO audit_log (ts, actor, actor_kind, action, target, before_value, after_value, source_ip)
            VALUES (\(bind: entry.time.microseconds), \(bind: entry.actor.name), \(bind: entry.actor.kind.rawValue), \(bind: entry.action),
                    \(bind: entry.target), \(bind: entry.before?.prefix(utf8Bytes: maxValueBytes)), \(bind: entry.after?.prefix(utf8Bytes: maxValueBytes)),
                    \(bind: entry.actor.sourceIP))
            """).run()
    }

    /// What the audit page filters on. Every field is optional.
    public struct Filter: Sendable {
        public var actor: String?
        /// A prefix of the action (`incident.` for every incident change).
        public var action: String?
        /// A prefix of the target.
        public var target: String?
        public var since: Timestamp?
        public var until: Timestamp?
        /// Rows with a smaller `seq` (the next page).
        public var before: Int64?
        public var limit: Int = 100
        public init() {}
    }

    /// Newest first.
    public static func entries(_ filter: Filter, on database: any SQLDatabase) async throws -> [Entry] {
        var query = database.select().columns("seq", "ts", "actor", "actor_kind", "action", "target", "before_value", "after_value", "source_ip")
            .from(table)
        if let actor = filter.actor { query = query.where("actor", .equal, SQLBind(actor)) }
        if let action = filter.action { query = query.where(SQLLike.prefix("action", action)) }
        if let target = filter.target { query = query.where(SQLLike.prefix("target", target)) }
        if let since = filter.since { query = query.where("ts", .greaterThanOrEqual, SQLBind(since.microseconds)) }
        if let until = filter.until { query = query.where("ts", .lessThan, SQLBind(until.microseconds)) }
        if let before = filter.before { query = query.where("seq", .lessThan, SQLBind(before)) }
        let rows = try await query.orderBy("seq", .descending).limit(max(1, min(filter.limit, 500))).all()
        return try rows.map { row in
            var entry = Entry(
                time: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)),
                actor: Actor(name: try row.decode(column: "actor", as: String.self),
                             kind: Actor.Kind(rawValue: try row.decode(column: "actor_kind", as: String.self)) ?? .user,
                             sourceIP: try row.decode(column: "source_ip", as: String?.self)),
                action: try row.decode(column: "action", as: String.self), target: try row.decode(column: "target", as: String.self),
                before: try row.decode(column: "before_value", as: String?.self), after: try row.decode(column: "after_value", as: String?.self))
            entry.seq = try row.decode(column: "seq", as: Int64.self)
            return entry
        }
    }
}
