import Foundation
import SecurityModel
import SQLKit

/// The `alerts` table: upserts from the live engine, and the newest alerts for the API.
public struct AlertStore: Sendable {
    public static let table = "alerts"

    /// One alert as stored.
    public struct Row: Sendable, Hashable {
        public var id: String
        public var rule: String
        public var title: String
        public var level: Severity
        public var group: String
        public var firstTime: Timestamp
        public var lastTime: Timestamp
        public var eventCount: Int
        /// Event ids (the `events` table and the activity log's `event_id`).
        public var events: [String]
        /// `open` while the condition holds, `closed` after.
        public var status: String
    }

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Inserts or updates each row (by id), in order.
    public func upsert(_ rows: [Row]) async throws {
        for row in rows {
            let events = String(decoding: try JSONEncoder().encode(row.events), as: UTF8.self)
            try await database.insert(into: Self.table)
                .columns("id", "rule", "title", "level", "group_key", "first_ts", "last_ts", "event_count", "events", "status")
                .values(SQLBind(row.id), SQLBind(row.rule), SQLBind(row.title), SQLBind(row.level.rawValue), SQLBind(row.group),
                        SQLBind(row.firstTime.microseconds), SQLBind(row.lastTime.microseconds), SQLBind(row.eventCount),
                        SQLBind(events), SQLBind(row.status))
                .onConflict(with: ["id"]) { conflict in
                    conflict.set(excludedValueOf: "last_ts").set(excludedValueOf: "event_count")
                        .set(excludedValueOf: "events").set(excludedValueOf: "status")
                }
                .run()
        }
    }

    /// Newest first (by last event).
    public func recent(limit: Int) async throws -> [Row] {
        let rows = try await database.select()
            .columns("id", "rule", "title", "level", "group_key", "first_ts", "last_ts", "event_count", "events", "status")
            .from(Self.table).orderBy("last_ts", .descending).limit(max(1, min(limit, 500))).all()
        return try rows.map { row in
            Row(id: try row.decode(column: "id", as: String.self), rule: try row.decode(column: "rule", as: String.self),
                title: try row.decode(column: "title", as: String.self),
                level: Severity(rawValue: try row.decode(column: "level", as: String.self)) ?? .medium,
                group: try row.decode(column: "group_key", as: String.self),
                firstTime: Timestamp(microseconds: try row.decode(column: "first_ts", as: Int64.self)),
                lastTime: Timestamp(microseconds: try row.decode(column: "last_ts", as: Int64.self)),
                eventCount: try row.decode(column: "event_count", as: Int.self),
                events: (try? JSONDecoder().decode([String].self, from: Data(try row.decode(column: "events", as: String.self).utf8))) ?? [],
                status: try row.decode(column: "status", as: String.self))
        }
    }
}
