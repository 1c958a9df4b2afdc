import Foundation
import SecurityModel
import SQLKit

/// The `alerts` table: one row per alert (episode), written as the alert opens, grows and closes.
///
/// Rows are keyed by the alert's stable id. The table also refuses two open rows for one rule and
/// group (a partial unique index): when two `secmon serve` nodes sharing PostgreSQL each detect
/// the same attack, the second node's alert joins the first one's row instead of showing the
/// attack twice. A closed row stays closed.
public struct AlertStore: Sendable {
    public static let table = "alerts"
    static let columns = [
        "id", "rule", "title", "level", "group_key", "group_json", "entities", "first_ts", "last_ts",
        "event_count", "events", "status", "node", "note", "explanation",
    ]

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Writes one update of `alert`, whose row (if it already has one) is `rowID`. Returns the
    /// id of the row that now holds it: `rowID` or the alert's own id, or another node's row for
    /// the same rule and group.
    public func save(_ alert: SecurityAlert, rowID: String?) async throws -> String {
        let events = Self.json(alert.evidence)
        let entities = Self.json(alert.entities.map { ["kind": $0.kind.rawValue, "value": $0.value] })
        // Closed is final: an update never reopens a row (another node may have closed it).
        if let updated = try await database.raw("""
            UPDATE alerts SET
              last_ts = CASE WHEN last_ts > \(bind: alert.lastTime.microseconds) THEN last_ts ELSE \(bind: alert.lastTime.microseconds) END,
              first_ts = CASE WHEN first_ts < \(bind: alert.firstTime.microseconds) THEN first_ts ELSE \(bind: alert.firstTime.microseconds) END,
              events = CASE WHEN event_count > \(bind: alert.eventCount) THEN events ELSE \(bind: events) END,
              event_count = CASE WHEN event_count > \(bind: alert.eventCount) THEN event_count ELSE \(bind: alert.eventCount) END,
              entities = \(bind: entities),
              level = CASE WHEN \(bind: alert.note ?? "") <> '' THEN \(bind: alert.level.rawValue) ELSE level END,
              note = CASE WHEN \(bind: alert.note ?? "") <> '' THEN \(bind: alert.note ?? "") ELSE note END,
              explanation = CASE WHEN \(bind: alert.explanation ?? "") <> '' THEN \(bind: alert.explanation ?? "") ELSE explanation END,
              status = CASE WHEN status = 'closed' THEN 'closed' ELSE \(bind: alert.status.rawValue) END
            WHERE id = \(bind: rowID ?? alert.id)
            RETURNING id
            """).first() {
            return try updated.decode(column: "id", as: String.self)
        }
        let values: SQLQueryString = """
            (\(bind: alert.id), \(bind: alert.rule), \(bind: alert.title), \(bind: alert.level.rawValue), \(bind: alert.groupDescription),
             \(bind: Self.json(alert.group.map { ["field": $0.field, "value": $0.value] })), \(bind: entities),
             \(bind: alert.firstTime.microseconds), \(bind: alert.lastTime.microseconds), \(bind: alert.eventCount), \(bind: events),
             \(bind: alert.status.rawValue), \(bind: alert.node), \(bind: alert.note ?? ""), \(bind: alert.explanation ?? ""))
            """
        let columns = SQLQueryString(Self.columns.joined(separator: ", "))
        if alert.status == .closed {
            // Opened and closed before it was first written (a single-event rule).
            try await database.raw("INSERT INTO alerts (\(columns)) VALUES \(values) ON CONFLICT (id) DO NOTHING").run()
            return alert.id
        }
        let row = try await database.raw("""
            INSERT INTO alerts (\(columns)) VALUES \(values)
            ON CONFLICT (rule, group_key) WHERE status = 'open' DO UPDATE SET
              last_ts = CASE WHEN alerts.last_ts > excluded.last_ts THEN alerts.last_ts ELSE excluded.last_ts END,
              first_ts = CASE WHEN alerts.first_ts < excluded.first_ts THEN alerts.first_ts ELSE excluded.first_ts END,
              events = CASE WHEN alerts.event_count > excluded.event_count THEN alerts.events ELSE excluded.events END,
              event_count = CASE WHEN alerts.event_count > excluded.event_count THEN alerts.event_count ELSE excluded.event_count END
            RETURNING id
            """).first()
        return try row?.decode(column: "id", as: String.self) ?? alert.id
    }

    /// Alerts that began at or after `since` (newest first, at most `limit`): when, how serious,
    /// about what. The dashboard's charts and top lists read these.
    public func summaries(since: Timestamp, limit: Int = 100_000) async throws -> [(first: Int64, level: Severity, entities: [Entity])] {
        try await database.raw("""
            SELECT first_ts, level, entities FROM alerts WHERE first_ts >= \(bind: since.microseconds) ORDER BY first_ts DESC LIMIT \(bind: limit)
            """).all().map { row in
            let entities = Self.decode([[String: String]].self, try row.decode(column: "entities", as: String.self)) ?? []
            return (try row.decode(column: "first_ts", as: Int64.self), Severity(rawValue: try row.decode(column: "level", as: String.self)) ?? .medium,
                    entities.compactMap { item in
                        guard let kind = item["kind"].flatMap(Entity.Kind.init(rawValue:)), let value = item["value"] else { return nil }
                        return Entity(kind, value)
                    })
        }
    }

    /// Closes the alerts `node` left open (it stopped without closing them: a crash or a kill).
    /// Returns how many.
    public func closeOpen(node: String) async throws -> Int {
        let rows = try await database.raw("UPDATE alerts SET status = 'closed' WHERE status = 'open' AND node = \(bind: node) RETURNING id").all()
        return rows.count
    }

    /// One row, as read back.
    public struct Row: Sendable, Hashable {
        public var id: String
        public var rule: String
        public var title: String
        public var level: Severity
        public var group: [SecurityAlert.GroupValue]
        public var groupDescription: String
        public var entities: [Entity]
        public var firstTime: Timestamp
        public var lastTime: Timestamp
        public var eventCount: Int
        /// Event ids (the `events` table and the activity log's `event_id`).
        public var events: [String]
        /// `open` while the condition holds, `closed` after.
        public var status: String
        public var node: String
        /// Why its level is not its rule's (a watchlisted address or user), or empty.
        public var note: String = ""
        /// What a baseline rule saw (its history, the deviation, since when), or empty.
        public var explanation: String = ""
    }

    /// Newest first (by last event).
    public func recent(limit: Int) async throws -> [Row] {
        let rows = try await database.select().columns(Self.columns.map { SQLColumn($0) })
            .from(Self.table).orderBy("last_ts", .descending).limit(max(1, min(limit, 500))).all()
        return try rows.map(Self.row)
    }

    /// The row with `id`, if any.
    public func find(_ id: String) async throws -> Row? {
        try await database.select().columns(Self.columns.map { SQLColumn($0) }).from(Self.table)
            .where("id", .equal, SQLBind(id)).first().map(Self.row)
    }

    /// Rows of `rule`, newest episode first (tests and diagnostics).
    public func all(rule: String) async throws -> [Row] {
        try await database.select().columns(Self.columns.map { SQLColumn($0) }).from(Self.table)
            .where("rule", .equal, SQLBind(rule)).orderBy("first_ts", .descending).all().map(Self.row)
    }

    /// Records that `events` took part in alert `alertID` (the event search links each event to its
    /// alerts). Already recorded pairs are skipped.
    public static func link(events: [String], to alertID: String, on database: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        var insert = database.insert(into: "alert_events").columns("event_id", "alert_id")
        for event in events { insert = insert.values(SQLBind(event), SQLBind(alertID)) }
        try await insert.ignoringConflicts().run()
    }

    /// The alerts each of `events` took part in: event id → alerts (id, rule, incident), oldest first.
    public func alerts(forEvents events: [String]) async throws -> [String: [(id: String, rule: String, incident: String?)]] {
        guard !events.isEmpty else { return [:] }
        let rows = try await database.select().columns(SQLColumn("event_id", table: "alert_events"), SQLColumn("id", table: "alerts"), SQLColumn("rule", table: "alerts"),
                                                       SQLColumn("incident_id", table: "incident_alerts"))
            .from("alert_events").join("alerts", on: SQLColumn("alert_id", table: "alert_events"), .equal, SQLColumn("id", table: "alerts"))
            .join("incident_alerts", method: SQLJoinMethod.left, on: SQLColumn("alert_id", table: "incident_alerts"), .equal, SQLColumn("id", table: "alerts"))
            .where(SQLColumn("event_id", table: "alert_events"), .in, SQLBind.group(events))
            .orderBy(SQLColumn("first_ts", table: "alerts")).all()
        var out: [String: [(id: String, rule: String, incident: String?)]] = [:]
        for row in rows {
            out[try row.decode(column: "event_id", as: String.self), default: []]
                .append((try row.decode(column: "id", as: String.self), try row.decode(column: "rule", as: String.self),
                         try row.decode(column: "incident_id", as: String?.self)))
        }
        return out
    }

    /// What the alert list filters on.
    public struct Filter: Sendable {
        public var levels: [Severity] = []
        /// `open` or `closed`.
        public var status: String?
        public var rule: String?
        public var since: Timestamp?
        public var until: Timestamp?
        public var offset = 0
        public var limit = 50
        /// Keyset pagination: only alerts after this one in the listing's order (newest activity first).
        public var after: (lastTs: Int64, id: String)?
        public init() {}
    }

    /// One page of alerts, newest activity first, with the incident each belongs to; and how many match.
    public func list(_ filter: Filter) async throws -> (rows: [(alert: Row, incident: String?)], total: Int) {
        func apply(_ query: SQLSelectBuilder) -> SQLSelectBuilder {
            var query = query
            if !filter.levels.isEmpty { query = query.where("level", .in, SQLBind.group(filter.levels.map(\.rawValue))) }
            if let status = filter.status { query = query.where("status", .equal, SQLBind(status)) }
            if let rule = filter.rule { query = query.where("rule", .equal, SQLBind(rule)) }
            if let since = filter.since { query = query.where("last_ts", .greaterThanOrEqual, SQLBind(since.microseconds)) }
            if let until = filter.until { query = query.where("first_ts", .lessThan, SQLBind(until.microseconds)) }
            return query
        }
        let total = try await apply(database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Self.table))
            .first()?.decode(column: "n", as: Int.self) ?? 0
        var page = apply(database.select().columns(Self.columns.map { SQLColumn($0, table: Self.table) })
            .column(SQLColumn("incident_id", table: "incident_alerts"))
            .from(Self.table)
            .join("incident_alerts", method: SQLJoinMethod.left, on: SQLColumn("alert_id", table: "incident_alerts"), .equal, SQLColumn("id", table: Self.table)))
        if let after = filter.after {
            page = page.where(SQLQueryString("(last_ts < \(bind: after.lastTs) OR (last_ts = \(bind: after.lastTs) AND alerts.id < \(bind: after.id)))"))
        }
        let rows = try await page
            .orderBy(SQLColumn("last_ts"), SQLDirection.descending).orderBy(SQLColumn("id", table: Self.table), SQLDirection.descending).limit(max(1, min(filter.limit, 500))).offset(max(0, filter.offset)).all()
        return (try rows.map { (try Self.row($0), try $0.decode(column: "incident_id", as: String?.self)) }, total)
    }

    /// The rows with these ids, oldest first.
    public func find(ids: [String]) async throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        return try await database.select().columns(Self.columns.map { SQLColumn($0) }).from(Self.table)
            .where("id", .in, SQLBind.group(ids)).orderBy("first_ts").all().map(Self.row)
    }

    static func row(_ row: any SQLRow) throws -> Row {
        let group = decode([[String: String?]].self, try row.decode(column: "group_json", as: String.self)) ?? []
        let entities = decode([[String: String]].self, try row.decode(column: "entities", as: String.self)) ?? []
        return Row(
            id: try row.decode(column: "id", as: String.self), rule: try row.decode(column: "rule", as: String.self),
            title: try row.decode(column: "title", as: String.self),
            level: Severity(rawValue: try row.decode(column: "level", as: String.self)) ?? .medium,
            group: group.compactMap { item in
                guard let field = item["field"] ?? nil else { return nil }
                return SecurityAlert.GroupValue(field: field, value: item["value"] ?? nil)
            },
            groupDescription: try row.decode(column: "group_key", as: String.self),
            entities: entities.compactMap { item in
                guard let kind = item["kind"].flatMap(Entity.Kind.init(rawValue:)), let value = item["value"] else { return nil }
                return Entity(kind, value)
            },
            firstTime: Timestamp(microseconds: try row.decode(column: "first_ts", as: Int64.self)),
            lastTime: Timestamp(microseconds: try row.decode(column: "last_ts", as: Int64.self)),
            eventCount: try row.decode(column: "event_count", as: Int.self),
            events: decode([String].self, try row.decode(column: "events", as: String.self)) ?? [],
            status: try row.decode(column: "status", as: String.self),
            node: try row.decode(column: "node", as: String.self), note: try row.decode(column: "note", as: String.self),
            explanation: try row.decode(column: "explanation", as: String.self))
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
