import Incidents
import SecurityModel
import SQLKit

extension IncidentStore {
    /// What an alert update did.
    public enum IngestOutcome: Sendable, Equatable {
        /// Opened a new incident.
        case created(String)
        /// A new alert joined the open incident for its rule and group.
        case joined(String)
        /// An alert already in an incident grew or closed.
        case updated
    }

    /// Files one alert update. `previousCount` is the event count this alert had when it was last
    /// filed (nil: never filed before).
    ///
    /// A new alert opens an incident (with its rule's playbook's tasks) or joins the open incident
    /// for the same rule and group: one transaction with the timeline and audit rows. An update of
    /// a filed alert, the common case while an attack goes on, is one statement that widens its
    /// incident's counts and times (wherever an analyst has moved the alert since), so that it
    /// holds SQLite's write lock as briefly as the alert store's own write.
    public func ingest(_ alert: SecurityAlert, previousCount: Int?) async throws -> IngestOutcome {
        if let previousCount {
            try await Self.widen(alert: alert, addEvents: Int64(max(0, alert.eventCount &- previousCount)), on: try sql)
            return .updated
        }
        let now = clock()
        // Reads outside the transaction need not hold the write lock. Only this sink files alerts
        // (one worker), so an alert not filed now is not filed by the time the transaction runs.
        if try await sql.raw("SELECT incident_id FROM incident_alerts WHERE alert_id = \(bind: alert.id)").first() != nil {
            return .updated // filed before this process knew of it (a republished update)
        }
        let playbook = try await PlaybookStore.find(alert.playbook, on: try sql)
        return try await transaction { sql in
            if let open = try await Self.openIncident(rule: alert.rule, groupKey: alert.groupDescription, on: sql) {
                try await Self.join(alert, to: open, at: now, on: sql)
                return .joined(open)
            }
            let id = EventID.make(at: now)
            let severity = IncidentSeverity(level: alert.level)
            let entities = AlertStore.json(alert.entities.map { ["kind": $0.kind.rawValue, "value": $0.value] })
            let inserted = try await sql.raw("""
                INSERT INTO incidents (id, title, severity, status, rule, group_key, entities, playbook, created_ts, updated_ts,
                                       first_ts, last_ts, alert_count, event_count, version)
                VALUES (\(bind: id), \(bind: Self.title(for: alert)), \(bind: severity.rawValue), 'new', \(bind: alert.rule),
                        \(bind: alert.groupDescription), \(bind: entities), \(bind: playbook?.name), \(bind: now.microseconds), \(bind: now.microseconds),
                        \(bind: alert.firstTime.microseconds), \(bind: alert.lastTime.microseconds), 1, \(bind: Int64(alert.eventCount)), 1)
                ON CONFLICT DO NOTHING RETURNING id
                """).first()
            guard inserted != nil else {
                // Another node opened it a moment ago.
                guard let open = try await Self.openIncident(rule: alert.rule, groupKey: alert.groupDescription, on: sql) else {
                    throw SinkUnavailable(message: "could not open or find the incident for \(alert.rule) \(alert.groupDescription)")
                }
                try await Self.join(alert, to: open, at: now, on: sql)
                return .joined(open)
            }
            if let tasks = playbook?.tasks, !tasks.isEmpty {
                var insert = sql.insert(into: "incident_tasks").columns("incident_id", "position", "title", "detail", "state")
                for (position, task) in tasks.enumerated() {
                    insert = insert.values(SQLBind(id), SQLBind(position + 1), SQLBind(task.title), SQLBind(task.detail), SQLBind(TaskState.open.rawValue))
                }
                try await insert.run()
            }
            var summary = "Opened from alert \(alert.id) (\(alert.rule), level \(alert.level.rawValue)): severity \(severity.rawValue)"
            if let playbook { summary += ", playbook \(playbook.name) (\(playbook.tasks.count) tasks)" }
            else if let name = alert.playbook { summary += "; the rule names playbook '\(name)', which does not exist" }
            if let note = alert.note { summary += ". \(note)" }
            if let explanation = alert.explanation { summary += ". \(explanation)" }
            try await Self.addTimeline(id, at: now, actor: "secmon", kind: "created", summary, on: sql)
            try await AuditTrail.record(.init(time: now, actor: .secmon, action: "incident.create", target: "incident:\(id)",
                                              after: "\(alert.rule) \(alert.groupDescription)"), on: sql)
            try await Self.attach(alert, to: id, at: now, on: sql)
            return .created(id)
        }
    }

    static func openIncident(rule: String, groupKey: String, on sql: any SQLDatabase) async throws -> String? {
        try await sql.raw("""
            SELECT id FROM incidents WHERE rule = \(bind: rule) AND group_key = \(bind: groupKey) AND status IN (\(unsafeRaw: openStatusList))
            """).first()?.decode(column: "id", as: String.self)
    }

    private static func join(_ alert: SecurityAlert, to incident: String, at now: Timestamp, on sql: any SQLDatabase) async throws {
        try await attach(alert, to: incident, at: now, on: sql)
        try await sql.raw("""
            UPDATE incidents SET alert_count = alert_count + 1, event_count = event_count + \(bind: Int64(alert.eventCount)),
              first_ts = CASE WHEN first_ts < \(bind: alert.firstTime.microseconds) THEN first_ts ELSE \(bind: alert.firstTime.microseconds) END,
              last_ts = CASE WHEN last_ts > \(bind: alert.lastTime.microseconds) THEN last_ts ELSE \(bind: alert.lastTime.microseconds) END
            WHERE id = \(bind: incident)
            """).run()
        try await addTimeline(incident, at: now, actor: "secmon", kind: "alert",
                              "Alert \(alert.id) joined (\(alert.rule), \(alert.eventCount) events so far)" + (alert.note.map { ". \($0)" } ?? ""), on: sql)
        // A watchlisted source's alert raises the incident to its own level.
        if alert.note != nil, let current = try await sql.raw("SELECT severity FROM incidents WHERE id = \(bind: incident)").first()
            .flatMap({ try? $0.decode(column: "severity", as: String.self) }).flatMap(IncidentSeverity.init(rawValue:)),
           IncidentSeverity(level: alert.level) > current {
            try await sql.raw("UPDATE incidents SET severity = \(bind: IncidentSeverity(level: alert.level).rawValue) WHERE id = \(bind: incident)").run()
        }
        try await AuditTrail.record(.init(time: now, actor: .secmon, action: "incident.alert-join", target: "incident:\(incident)",
                                          after: "alert:\(alert.id)"), on: sql)
    }

    private static func attach(_ alert: SecurityAlert, to incident: String, at now: Timestamp, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO incident_alerts (alert_id, incident_id, event_count, added_ts)
            VALUES (\(bind: alert.id), \(bind: incident), \(bind: Int64(alert.eventCount)), \(bind: now.microseconds))
            """).run()
    }

    /// The incident holding `alert` (found through `incident_alerts`, so an alert an analyst moved
    /// widens its new incident): `addEvents` more events, its times widened to the alert's.
    private static func widen(alert: SecurityAlert, addEvents: Int64, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE incidents SET
              event_count = event_count + \(bind: addEvents),
              first_ts = CASE WHEN first_ts < \(bind: alert.firstTime.microseconds) THEN first_ts ELSE \(bind: alert.firstTime.microseconds) END,
              last_ts = CASE WHEN last_ts > \(bind: alert.lastTime.microseconds) THEN last_ts ELSE \(bind: alert.lastTime.microseconds) END
            WHERE id = (SELECT incident_id FROM incident_alerts WHERE alert_id = \(bind: alert.id))
            """).run()
    }

    /// "SecMon brute force login (ip 127.0.0.2)": the rule's title and what it is about.
    static func title(for alert: SecurityAlert) -> String {
        let about = alert.entities.isEmpty ? alert.groupDescription : alert.entities.map { "\($0.kind.rawValue) \($0.value)" }.joined(separator: ", ")
        let title = about.isEmpty ? alert.title : "\(alert.title) (\(about))"
        return title.prefix(utf8Bytes: IncidentStore.maxTitleBytes)
    }

    /// Most UTF-8 bytes in a title.
    public static let maxTitleBytes = 200
}
