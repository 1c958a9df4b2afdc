import Fluent
import SecurityModel
import SQLKit

/// The `events` table: batched inserts on the hot path, and the queries the dashboard and API ask.
public struct EventStore: Sendable {
    /// Table name.
    public static let table = "events"
    static let columns = [
        "id", "ts", "ip_address", "username", "action", "user_id", "session_id",
        "method", "path", "status", "user_agent", "duration_ms", "attempted_username",
    ]

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Inserts `events` with one multi-row statement.
    public func insert(_ events: [ActivityEvent]) async throws {
        guard !events.isEmpty else { return }
        var insert = database.insert(into: EventStore.table).columns(EventStore.columns)
        for event in events {
            insert = insert.values([
                SQLBind(event.eventID), SQLBind(event.timestamp.microseconds), SQLBind(event.ipAddress),
                SQLBind(event.username), SQLBind(event.action.rawValue), SQLBind(event.userID),
                SQLBind(event.sessionRef), SQLBind(event.method), SQLBind(event.path), SQLBind(event.status),
                SQLBind(event.userAgent), SQLBind(event.durationMs), SQLBind(event.attemptedUsername),
            ])
        }
        try await insert.run()
    }

    /// What to select.
    public struct Filter: Sendable {
        public var ipAddress: String?
        public var username: String?
        public var action: String?
        /// Only events strictly before this time (for paging backwards).
        public var before: Timestamp?
        /// Only the event with this id (an alert's evidence).
        public var eventID: String?
        /// Only events at or after this time.
        public var since: Timestamp?
        /// A prefix of the request path.
        public var path: String?
        /// Text anywhere in the user, attempted user, address, path or user agent (case ignored).
        public var text: String?
        /// Only these events (an alert's or incident's evidence), at most 1,000.
        public var eventIDs: [String]?
        /// Keyset pagination: only events after this one in the listing's order (newest first).
        public var after: (ts: Int64, id: String)?
        public var limit: Int

        public init(ipAddress: String? = nil, username: String? = nil, action: String? = nil, before: Timestamp? = nil, limit: Int = 50) {
            self.ipAddress = ipAddress
            self.username = username
            self.action = action
            self.before = before
            self.limit = limit
        }
    }

    /// Newest first.
    public func recent(_ filter: Filter) async throws -> [ActivityEvent] {
        if let ids = filter.eventIDs, ids.isEmpty { return [] }
        var query = database.select().columns(EventStore.columns.map { SQLColumn($0) }).from(EventStore.table)
        if let ip = filter.ipAddress { query = query.where("ip_address", .equal, SQLBind(ip)) }
        if let user = filter.username { query = query.where("username", .equal, SQLBind(user)) }
        if let action = filter.action { query = query.where("action", .equal, SQLBind(action)) }
        if let before = filter.before { query = query.where("ts", .lessThan, SQLBind(before.microseconds)) }
        if let id = filter.eventID { query = query.where("id", .equal, SQLBind(id)) }
        if let since = filter.since { query = query.where("ts", .greaterThanOrEqual, SQLBind(since.microseconds)) }
        if let path = filter.path { query = query.where(SQLLike.prefix("path", path)) }
        if let text = filter.text {
            let text = text
            query = query.where { group in
                var group = group
                for column in ["username", "attempted_username", "ip_address", "path", "user_agent"] {
                    group = group.orWhere(SQLLike.contains(column, text))
                }
                return group
            }
        }
        if let ids = filter.eventIDs {
            query = query.where("id", .in, SQLBind.group(Array(ids.prefix(1000))))
        }
        if let after = filter.after {
            query = query.where(SQLQueryString("(ts < \(bind: after.ts) OR (ts = \(bind: after.ts) AND id < \(bind: after.id)))"))
        }
        let rows = try await query.orderBy("ts", .descending).orderBy("id", .descending).limit(max(1, min(filter.limit, 1000))).all()
        return try rows.map(EventStore.event(from:))
    }

    /// Number of events of each action since `since`.
    public func countsByAction(since: Timestamp) async throws -> [String: Int] {
        let rows = try await database.select()
            .column("action")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(EventStore.table)
            .where("ts", .greaterThanOrEqual, SQLBind(since.microseconds))
            .groupBy("action")
            .all()
        var counts: [String: Int] = [:]
        for row in rows {
            counts[try row.decode(column: "action", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    /// Total rows (tests and diagnostics).
    public func count() async throws -> Int {
        let row = try await database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(EventStore.table).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    static func event(from row: any SQLRow) throws -> ActivityEvent {
        ActivityEvent(
            timestamp: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)),
            ipAddress: try row.decode(column: "ip_address", as: String.self),
            username: try row.decode(column: "username", as: String.self),
            action: ActivityAction(rawValue: try row.decode(column: "action", as: String.self)),
            eventID: try row.decode(column: "id", as: String.self),
            userID: try row.decode(column: "user_id", as: String?.self),
            sessionRef: try row.decode(column: "session_id", as: String?.self),
            method: try row.decode(column: "method", as: String?.self),
            path: try row.decode(column: "path", as: String?.self),
            status: try row.decode(column: "status", as: Int?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            durationMs: try row.decode(column: "duration_ms", as: Double?.self),
            attemptedUsername: try row.decode(column: "attempted_username", as: String?.self)
        )
    }
}
