import Fluent
import SQLKit

/// Creates the incident tables: `incidents`, the alerts each holds (`incident_alerts`), its
/// timeline, its playbook tasks and notes; `playbooks` (the editable templates); and
/// `alert_events` (which alerts each event took part in, for the event search).
///
/// Times are microseconds since the Unix epoch, as in `events` and `alerts`. At most one open
/// incident per rule and group (a partial unique index), so nodes sharing PostgreSQL open one
/// incident for one attack.
struct CreateIncidents: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("incidents")
            .field("id", .string, .identifier(auto: false))
            .field("title", .string, .required)
            .field("severity", .string, .required)
            .field("status", .string, .required)
            .field("resolution", .string)
            .field("assignee", .string)
            .field("rule", .string, .required)
            .field("group_key", .string, .required)
            .field("entities", .string, .required)
            .field("playbook", .string)
            .field("created_ts", .int64, .required)
            .field("updated_ts", .int64, .required)
            .field("acknowledged_ts", .int64)
            .field("resolved_ts", .int64)
            .field("closed_ts", .int64)
            .field("first_ts", .int64, .required)
            .field("last_ts", .int64, .required)
            .field("alert_count", .int, .required)
            .field("event_count", .int64, .required)
            .field("version", .int, .required)
            .field("merged_into", .string)
            .create()
        try await database.schema("incident_alerts")
            .field("alert_id", .string, .identifier(auto: false))
            .field("incident_id", .string, .required)
            .field("event_count", .int64, .required)
            .field("added_ts", .int64, .required)
            .create()
        try await database.schema("incident_timeline")
            .field("seq", .int64, .identifier(auto: true))
            .field("incident_id", .string, .required)
            .field("ts", .int64, .required)
            .field("actor", .string, .required)
            .field("kind", .string, .required)
            .field("summary", .string, .required)
            .field("before_value", .string)
            .field("after_value", .string)
            .create()
        try await database.schema("incident_tasks")
            .field("incident_id", .string, .required)
            .field("position", .int, .required)
            .field("title", .string, .required)
            .field("detail", .string, .required)
            .field("state", .string, .required)
            .field("comment", .string)
            .field("updated_by", .string)
            .field("updated_ts", .int64)
            .compositeIdentifier(over: "incident_id", "position")
            .create()
        try await database.schema("incident_notes")
            .field("seq", .int64, .identifier(auto: true))
            .field("incident_id", .string, .required)
            .field("ts", .int64, .required)
            .field("author", .string, .required)
            .field("body", .string, .required)
            .create()
        try await database.schema("playbooks")
            .field("name", .string, .identifier(auto: false))
            .field("title", .string, .required)
            .field("description", .string, .required)
            .field("tasks", .string, .required)
            .field("version", .int, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
        try await database.schema("alert_events")
            .field("event_id", .string, .required)
            .field("alert_id", .string, .required)
            .compositeIdentifier(over: "event_id", "alert_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        let open = IncidentStore.openStatusList
        try await sql.raw("CREATE UNIQUE INDEX incidents_open_case ON incidents (rule, group_key) WHERE status IN (\(unsafeRaw: open))").run()
        for column in ["created_ts", "status", "severity", "assignee", "rule"] {
            try await sql.create(index: "incidents_\(column)_idx").on("incidents").column(column).run()
        }
        try await sql.create(index: "incident_alerts_incident_idx").on("incident_alerts").column("incident_id").run()
        try await sql.create(index: "incident_timeline_incident_idx").on("incident_timeline").column("incident_id").run()
        try await sql.create(index: "incident_notes_incident_idx").on("incident_notes").column("incident_id").run()
        // Alerts stored before this migration: their evidence, for the event search.
        for row in try await sql.raw("SELECT id, events FROM alerts").all() {
            let id = try row.decode(column: "id", as: String.self)
            let events = AlertStore.decode([String].self, try row.decode(column: "events", as: String.self)) ?? []
            try await AlertStore.link(events: events, to: id, on: sql)
        }
    }

    func revert(on database: any Database) async throws {
        for table in ["alert_events", "playbooks", "incident_notes", "incident_tasks", "incident_timeline", "incident_alerts", "incidents"] {
            try await database.schema(table).delete()
        }
    }
}
