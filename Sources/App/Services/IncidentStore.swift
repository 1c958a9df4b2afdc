import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The incident tables: incidents, their alerts, timeline, tasks and notes, and the playbook
/// templates.
///
/// Every change is one transaction together with its timeline line and its audit row: nothing is
/// half-written. Changes by analysts carry the version they saw; one made against an older
/// version is refused (``IncidentRefusal`` `.conflict`), so two analysts never silently undo each
/// other. New alerts joining an incident do not change its version (an analyst's edit is not
/// stale because the attack went on).
public struct IncidentStore: Sendable {
    let database: any Database
    let clock: @Sendable () -> Timestamp

    public init(database: any Database, clock: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.database = database
        self.clock = clock
    }

    /// `'new', 'acknowledged', ...` for SQL (fixed strings of ours, never user input).
    static let openStatusList = IncidentStatus.openStatuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    static let columns = [
        "id", "title", "severity", "status", "resolution", "assignee", "rule", "group_key", "entities", "playbook",
        "created_ts", "updated_ts", "acknowledged_ts", "resolved_ts", "closed_ts", "first_ts", "last_ts",
        "alert_count", "event_count", "version", "merged_into",
    ]

    var sql: any SQLDatabase {
        get throws {
            guard let sql = database as? any SQLDatabase else { throw SinkUnavailable(message: "the database is not an SQL database") }
            return sql
        }
    }

    /// Runs `body` in one transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await database.sqlTransaction(body)
    }

    // MARK: Reading

    /// The incident with `id`.
    public func find(_ id: String) async throws -> IncidentRecord? {
        try await Self.load(id, on: try sql)
    }

    static func load(_ id: String, on sql: any SQLDatabase) async throws -> IncidentRecord? {
        try await sql.select().columns(columns.map { SQLColumn($0) }).from("incidents")
            .where("id", .equal, SQLBind(id)).first().map(record)
    }

    /// What the incident list filters on; every field optional.
    public struct Filter: Sendable {
        public var statuses: [IncidentStatus] = []
        public var severities: [IncidentSeverity] = []
        public var rule: String?
        /// A user name; the empty string means unassigned.
        public var assignee: String?
        /// Created in [since, until).
        public var since: Timestamp?
        public var until: Timestamp?
        public var offset = 0
        public var limit = 50
        /// Keyset pagination: only incidents after this one in the listing's order (newest first).
        public var after: (createdTs: Int64, id: String)?
        public init() {}
    }

    /// One page, newest first, and how many match.
    public func list(_ filter: Filter) async throws -> (rows: [IncidentRecord], total: Int) {
        let sql = try sql
        func apply(_ query: SQLSelectBuilder) -> SQLSelectBuilder {
            var query = query
            if !filter.statuses.isEmpty { query = query.where("status", .in, SQLBind.group(filter.statuses.map(\.rawValue))) }
            if !filter.severities.isEmpty { query = query.where("severity", .in, SQLBind.group(filter.severities.map(\.rawValue))) }
            if let rule = filter.rule { query = query.where("rule", .equal, SQLBind(rule)) }
            if let assignee = filter.assignee {
                query = assignee.isEmpty ? query.where("assignee", .is, SQLLiteral.null) : query.where("assignee", .equal, SQLBind(assignee))
            }
            if let since = filter.since { query = query.where("created_ts", .greaterThanOrEqual, SQLBind(since.microseconds)) }
            if let until = filter.until { query = query.where("created_ts", .lessThan, SQLBind(until.microseconds)) }
            return query
        }
        var page = apply(sql.select().columns(Self.columns.map { SQLColumn($0) }).from("incidents"))
        if let after = filter.after {
            page = page.where(SQLQueryString("(created_ts < \(bind: after.createdTs) OR (created_ts = \(bind: after.createdTs) AND id < \(bind: after.id)))"))
        }
        let total = try await apply(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("incidents"))
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await page
            .orderBy("created_ts", .descending).orderBy("id", .descending)
            .limit(max(1, min(filter.limit, 200))).offset(max(0, filter.offset)).all()
        return (try rows.map(Self.record), total)
    }

    /// Open incidents per severity (the dashboard).
    public func openCounts() async throws -> [IncidentSeverity: Int] {
        let rows = try await sql.raw("SELECT severity, COUNT(*) AS n FROM incidents WHERE status IN (\(unsafeRaw: Self.openStatusList)) GROUP BY severity").all()
        var out: [IncidentSeverity: Int] = [:]
        for row in rows {
            if let severity = IncidentSeverity(rawValue: try row.decode(column: "severity", as: String.self)) {
                out[severity] = try row.decode(column: "n", as: Int.self)
            }
        }
        return out
    }

    /// MTTA and MTTR over the incidents created since `since`, and the age of every open one.
    public func metrics(since: Timestamp) async throws -> IncidentMetrics {
        let rows = try await sql.raw("""
            SELECT severity, status, created_ts, acknowledged_ts, resolved_ts, merged_into FROM incidents
            WHERE created_ts >= \(bind: since.microseconds) OR status IN (\(unsafeRaw: Self.openStatusList))
            """).all()
        let samples = try rows.map { row in
            IncidentMetrics.Sample(
                severity: IncidentSeverity(rawValue: try row.decode(column: "severity", as: String.self)) ?? .medium,
                status: IncidentStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .new,
                created: Timestamp(microseconds: try row.decode(column: "created_ts", as: Int64.self)),
                acknowledged: try row.decode(column: "acknowledged_ts", as: Int64?.self).map(Timestamp.init(microseconds:)),
                resolved: try row.decode(column: "resolved_ts", as: Int64?.self).map(Timestamp.init(microseconds:)),
                merged: try row.decode(column: "merged_into", as: String?.self) != nil)
        }
        return IncidentMetrics(samples, now: clock())
    }

    /// The incident's timeline, oldest first.
    public func timeline(_ id: String) async throws -> [TimelineEntry] {
        try await sql.select().columns("seq", "ts", "actor", "kind", "summary", "before_value", "after_value").from("incident_timeline")
            .where("incident_id", .equal, SQLBind(id)).orderBy("seq").limit(5000).all().map { row in
                TimelineEntry(seq: try row.decode(column: "seq", as: Int64.self), time: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)),
                              actor: try row.decode(column: "actor", as: String.self), kind: try row.decode(column: "kind", as: String.self),
                              summary: try row.decode(column: "summary", as: String.self),
                              before: try row.decode(column: "before_value", as: String?.self), after: try row.decode(column: "after_value", as: String?.self))
            }
    }

    /// The incident's playbook tasks, in order.
    public func tasks(_ id: String) async throws -> [IncidentTask] {
        try await sql.select().columns("position", "title", "detail", "state", "comment", "updated_by", "updated_ts").from("incident_tasks")
            .where("incident_id", .equal, SQLBind(id)).orderBy("position").all().map { row in
                IncidentTask(position: try row.decode(column: "position", as: Int.self), title: try row.decode(column: "title", as: String.self),
                             detail: try row.decode(column: "detail", as: String.self),
                             state: TaskState(rawValue: try row.decode(column: "state", as: String.self)) ?? .open,
                             comment: try row.decode(column: "comment", as: String?.self), updatedBy: try row.decode(column: "updated_by", as: String?.self),
                             updated: try row.decode(column: "updated_ts", as: Int64?.self).map(Timestamp.init(microseconds:)))
            }
    }

    /// The incident's notes, oldest first.
    public func notes(_ id: String) async throws -> [IncidentNote] {
        try await sql.select().columns("seq", "ts", "author", "body").from("incident_notes")
            .where("incident_id", .equal, SQLBind(id)).orderBy("seq").limit(1000).all().map { row in
                IncidentNote(seq: try row.decode(column: "seq", as: Int64.self), time: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)),
                             author: try row.decode(column: "author", as: String.self), body: try row.decode(column: "body", as: String.self))
            }
    }

    /// The ids of the incident's alerts, oldest first.
    public func alertIDs(_ id: String) async throws -> [String] {
        try await sql.select().column("alert_id").from("incident_alerts").where("incident_id", .equal, SQLBind(id))
            .orderBy("added_ts").limit(1000).all().map { try $0.decode(column: "alert_id", as: String.self) }
    }

    static func record(_ row: any SQLRow) throws -> IncidentRecord {
        func time(_ column: String) throws -> Timestamp? {
            try row.decode(column: column, as: Int64?.self).map(Timestamp.init(microseconds:))
        }
        let entities = AlertStore.decode([[String: String]].self, try row.decode(column: "entities", as: String.self)) ?? []
        return IncidentRecord(
            id: try row.decode(column: "id", as: String.self), title: try row.decode(column: "title", as: String.self),
            severity: IncidentSeverity(rawValue: try row.decode(column: "severity", as: String.self)) ?? .medium,
            status: IncidentStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .new,
            resolution: try row.decode(column: "resolution", as: String?.self).flatMap(Resolution.init(rawValue:)),
            assignee: try row.decode(column: "assignee", as: String?.self),
            rule: try row.decode(column: "rule", as: String.self), groupKey: try row.decode(column: "group_key", as: String.self),
            entities: entities.compactMap { item in
                guard let kind = item["kind"].flatMap(Entity.Kind.init(rawValue:)), let value = item["value"] else { return nil }
                return Entity(kind, value)
            },
            playbook: try row.decode(column: "playbook", as: String?.self),
            created: Timestamp(microseconds: try row.decode(column: "created_ts", as: Int64.self)),
            updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)),
            acknowledged: try time("acknowledged_ts"), resolved: try time("resolved_ts"), closed: try time("closed_ts"),
            firstTime: Timestamp(microseconds: try row.decode(column: "first_ts", as: Int64.self)),
            lastTime: Timestamp(microseconds: try row.decode(column: "last_ts", as: Int64.self)),
            alertCount: try row.decode(column: "alert_count", as: Int.self), eventCount: try row.decode(column: "event_count", as: Int64.self),
            version: try row.decode(column: "version", as: Int.self), mergedInto: try row.decode(column: "merged_into", as: String?.self))
    }

    // MARK: Writing helpers

    static func addTimeline(_ incident: String, at time: Timestamp, actor: String, kind: String, _ summary: String,
                            before: String? = nil, after: String? = nil, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO incident_timeline (incident_id, ts, actor, kind, summary, before_value, after_value)
            VALUES (\(bind: incident), \(bind: time.microseconds), \(bind: actor), \(bind: kind), \(bind: summary), \(bind: before), \(bind: after))
            """).run()
    }
}

extension Database {
    /// Runs `body` in one transaction, with SQLKit's interface to it.
    ///
    /// On SQLite the transaction is `BEGIN IMMEDIATE`: it takes the write lock before its first
    /// read, so a read-then-write transaction never fails with `SQLITE_BUSY_SNAPSHOT` because
    /// another connection wrote in between (a plain `BEGIN` would). Other writers wait for it.
    func sqlTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard let sql = self as? any SQLDatabase else { throw SinkUnavailable(message: "the database is not an SQL database") }
        guard sql.dialect.name == "sqlite" else {
            return try await transaction { db in
                guard let sql = db as? any SQLDatabase else { throw SinkUnavailable(message: "the database is not an SQL database") }
                return try await body(sql)
            }
        }
        return try await sql.withSession { connection in
            try await connection.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(connection)
                try await connection.raw("COMMIT").run()
                return result
            } catch {
                try? await connection.raw("ROLLBACK").run()
                throw error
            }
        }
    }
}
