import Foundation
import Incidents
import SecurityModel
import SQLKit

/// Analysts' changes. Each loads the incident, checks the version the analyst saw and the change's
/// legality, writes the change, its timeline line and its audit row, in one transaction.
extension IncidentStore {
    /// Most UTF-8 bytes in a task comment.
    public static let maxCommentBytes = 1024

    /// Moves the incident to `status`; closing needs a `resolution`.
    public func setStatus(_ id: String, to status: IncidentStatus, resolution: Resolution?, version: Int, by actor: AuditTrail.Actor) async throws {
        let now = clock()
        try await transaction { sql in
            let incident = try await Self.current(id, version: version, on: sql)
            guard incident.status.canMove(to: status) else {
                let allowed = incident.status.next.map(\.rawValue).joined(separator: ", ")
                throw IncidentRefusal(.conflict, field: "status", incident.status == .closed
                    ? "the incident is closed, and closed is final"
                    : "an incident cannot go from \(incident.status.rawValue) to \(status.rawValue); from \(incident.status.rawValue) it can go to \(allowed)")
            }
            if status == .closed, resolution == nil {
                throw IncidentRefusal(.invalid, field: "resolution", "closing needs a resolution: \(Resolution.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if status.isOpen, !incident.status.isOpen,
               let other = try await Self.openIncident(rule: incident.rule, groupKey: incident.groupKey, on: sql), other != id {
                throw IncidentRefusal(.conflict, field: "status", "incident \(other) is already open for the same rule and group; merge this one into it instead of reopening")
            }
            let acknowledged = incident.acknowledged ?? (status.isAcknowledged ? now : nil)
            let resolved: Timestamp? = status == .resolved || status == .closed ? (incident.resolved ?? now) : nil
            try await Self.update(incident, on: sql, now: now, [
                ("status", SQLBind(status.rawValue)),
                ("resolution", SQLBind(status == .closed ? resolution?.rawValue : nil)),
                ("acknowledged_ts", SQLBind(acknowledged?.microseconds)),
                ("resolved_ts", SQLBind(resolved?.microseconds)),
                ("closed_ts", SQLBind(status == .closed ? now.microseconds : nil)),
            ])
            let after = status == .closed ? "closed (\(resolution?.rawValue ?? ""))" : status.rawValue
            try await Self.record(incident, actor: actor, at: now, kind: "status", action: "incident.status",
                                  "Status \(incident.status.rawValue) → \(after)", before: incident.status.rawValue, after: after, on: sql)
        }
    }

    /// Sets the severity.
    public func setSeverity(_ id: String, to severity: IncidentSeverity, version: Int, by actor: AuditTrail.Actor) async throws {
        let now = clock()
        try await transaction { sql in
            let incident = try await Self.current(id, version: version, on: sql, editable: true)
            guard incident.severity != severity else { return }
            try await Self.update(incident, on: sql, now: now, [("severity", SQLBind(severity.rawValue))])
            try await Self.record(incident, actor: actor, at: now, kind: "severity", action: "incident.severity",
                                  "Severity \(incident.severity.rawValue) → \(severity.rawValue)", before: incident.severity.rawValue, after: severity.rawValue, on: sql)
        }
    }

    /// Assigns the incident to `assignee` (an analyst or admin who may log in), or to nobody.
    public func assign(_ id: String, to assignee: String?, version: Int, by actor: AuditTrail.Actor) async throws {
        let now = clock()
        try await transaction { sql in
            let incident = try await Self.current(id, version: version, on: sql, editable: true)
            if let assignee {
                guard let user = try await sql.raw("SELECT role FROM users WHERE username = \(bind: assignee)").first() else {
                    throw IncidentRefusal(.invalid, field: "assignee", "there is no user named '\(assignee)'")
                }
                let role = Role(rawValue: try user.decode(column: "role", as: String.self)) ?? .viewer
                guard role.includes(.analyst) else {
                    throw IncidentRefusal(.invalid, field: "assignee", "\(assignee) is a \(role.rawValue); incidents are assigned to analysts and admins")
                }
            }
            guard incident.assignee != assignee else { return }
            try await Self.update(incident, on: sql, now: now, [("assignee", SQLBind(assignee))])
            try await Self.record(incident, actor: actor, at: now, kind: "assignee", action: "incident.assign",
                                  "Assigned to \(assignee ?? "nobody")", before: incident.assignee, after: assignee, on: sql)
        }
    }

    /// Renames the incident.
    public func setTitle(_ id: String, to title: String, version: Int, by actor: AuditTrail.Actor) async throws {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.utf8.count <= Self.maxTitleBytes else {
            throw IncidentRefusal(.invalid, field: "title", "a title has 1 to \(Self.maxTitleBytes) bytes (this one has \(title.utf8.count))")
        }
        let now = clock()
        try await transaction { sql in
            let incident = try await Self.current(id, version: version, on: sql, editable: true)
            guard incident.title != title else { return }
            try await Self.update(incident, on: sql, now: now, [("title", SQLBind(title))])
            try await Self.record(incident, actor: actor, at: now, kind: "title", action: "incident.title",
                                  "Renamed", before: incident.title, after: title, on: sql)
        }
    }

    /// Merges incident `id` into `target`: its alerts move there, and it is closed as a duplicate
    /// pointing at `target`. Its own timeline, tasks and notes stay with it.
    public func merge(_ id: String, into target: String, version: Int, by actor: AuditTrail.Actor) async throws {
        guard id != target else { throw IncidentRefusal(.conflict, field: "target", "an incident cannot be merged into itself") }
        let now = clock()
        try await transaction { sql in
            let source = try await Self.current(id, version: version, on: sql, editable: true)
            guard let into = try await Self.load(target, on: sql) else {
                throw IncidentRefusal(.notFound, field: "target", "there is no incident \(target)")
            }
            guard into.status != .closed else {
                throw IncidentRefusal(.conflict, field: "target", "incident \(target) is closed; merge into an incident that is not")
            }
            let moved = try await sql.raw("UPDATE incident_alerts SET incident_id = \(bind: target) WHERE incident_id = \(bind: id) RETURNING alert_id").all().count
            try await Self.refreshTotals(target, on: sql)
            try await Self.refreshTotals(id, on: sql)
            try await Self.update(source, on: sql, now: now, [
                ("status", SQLBind(IncidentStatus.closed.rawValue)), ("resolution", SQLBind(Resolution.duplicate.rawValue)),
                ("merged_into", SQLBind(target)), ("closed_ts", SQLBind(now.microseconds)),
                ("resolved_ts", SQLBind((source.resolved ?? now).microseconds)),
                ("acknowledged_ts", SQLBind((source.acknowledged ?? now).microseconds)),
            ])
            try await Self.update(into, on: sql, now: now, [])
            try await Self.record(source, actor: actor, at: now, kind: "merge", action: "incident.merge",
                                  "Merged into incident \(target) (\(moved) alerts moved); closed as duplicate", before: source.status.rawValue, after: "merged:\(target)", on: sql)
            try await Self.addTimeline(target, at: now, actor: actor.name, kind: "merge", "Incident \(id) merged in (\(moved) alerts)", on: sql)
        }
    }

    /// Moves one alert from incident `id` to `target`.
    public func moveAlert(_ alertID: String, from id: String, to target: String, version: Int, by actor: AuditTrail.Actor) async throws {
        guard id != target else { throw IncidentRefusal(.conflict, field: "target", "the alert is already in this incident") }
        let now = clock()
        try await transaction { sql in
            let source = try await Self.current(id, version: version, on: sql, editable: true)
            guard let into = try await Self.load(target, on: sql) else {
                throw IncidentRefusal(.notFound, field: "target", "there is no incident \(target)")
            }
            guard into.status != .closed else {
                throw IncidentRefusal(.conflict, field: "target", "incident \(target) is closed; move the alert to an incident that is not")
            }
            let moved = try await sql.raw("UPDATE incident_alerts SET incident_id = \(bind: target) WHERE alert_id = \(bind: alertID) AND incident_id = \(bind: id) RETURNING alert_id").first()
            guard moved != nil else {
                throw IncidentRefusal(.notFound, field: "alert", "alert \(alertID) is not in incident \(id)")
            }
            try await Self.refreshTotals(target, on: sql)
            try await Self.refreshTotals(id, on: sql)
            try await Self.update(source, on: sql, now: now, [])
            try await Self.update(into, on: sql, now: now, [])
            try await Self.record(source, actor: actor, at: now, kind: "move", action: "incident.move-alert",
                                  "Alert \(alertID) moved to incident \(target)", before: "incident:\(id)", after: "incident:\(target)", on: sql)
            try await Self.addTimeline(target, at: now, actor: actor.name, kind: "move", "Alert \(alertID) moved here from incident \(id)", on: sql)
        }
    }

    /// Adds a Markdown note.
    public func addNote(_ id: String, body: String, by actor: AuditTrail.Actor) async throws {
        let body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw IncidentRefusal(.invalid, field: "body", "the note is empty") }
        guard body.utf8.count <= NoteRenderer.maxBytes else {
            throw IncidentRefusal(.invalid, field: "body", "the note has \(body.utf8.count) bytes; a note may have at most \(NoteRenderer.maxBytes)")
        }
        let now = clock()
        try await transaction { sql in
            guard let incident = try await Self.load(id, on: sql) else { throw Self.notFound(id) }
            try await sql.raw("INSERT INTO incident_notes (incident_id, ts, author, body) VALUES (\(bind: id), \(bind: now.microseconds), \(bind: actor.name), \(bind: body))").run()
            try await sql.raw("UPDATE incidents SET updated_ts = \(bind: now.microseconds) WHERE id = \(bind: id)").run()
            try await Self.record(incident, actor: actor, at: now, kind: "note", action: "incident.note",
                                  "Note added (\(body.utf8.count) bytes)", after: body, on: sql)
        }
    }

    /// Ticks, skips or reopens playbook task `position`, with an optional comment.
    public func setTask(_ id: String, position: Int, to state: TaskState, comment: String?, by actor: AuditTrail.Actor) async throws {
        let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let comment, comment.utf8.count > Self.maxCommentBytes {
            throw IncidentRefusal(.invalid, field: "comment", "the comment has \(comment.utf8.count) bytes; at most \(Self.maxCommentBytes)")
        }
        let now = clock()
        try await transaction { sql in
            guard let incident = try await Self.load(id, on: sql) else { throw Self.notFound(id) }
            guard incident.status != .closed else {
                throw IncidentRefusal(.conflict, field: "status", "the incident is closed; its tasks are part of its record now")
            }
            guard let task = try await sql.raw("SELECT title, state, comment FROM incident_tasks WHERE incident_id = \(bind: id) AND position = \(bind: position)").first() else {
                throw IncidentRefusal(.notFound, field: "task", "incident \(id) has no task \(position)")
            }
            let title = try task.decode(column: "title", as: String.self)
            let before = try task.decode(column: "state", as: String.self)
            let oldComment = try task.decode(column: "comment", as: String?.self)
            let newComment = comment.flatMap { $0.isEmpty ? nil : $0 } ?? oldComment
            try await sql.raw("""
                UPDATE incident_tasks SET state = \(bind: state.rawValue), comment = \(bind: newComment), updated_by = \(bind: actor.name), updated_ts = \(bind: now.microseconds)
                WHERE incident_id = \(bind: id) AND position = \(bind: position)
                """).run()
            try await sql.raw("UPDATE incidents SET updated_ts = \(bind: now.microseconds) WHERE id = \(bind: id)").run()
            var summary = "Task \(position) “\(title)”: \(state.label.lowercased())"
            if let comment, !comment.isEmpty { summary += " — \(comment)" }
            try await Self.record(incident, actor: actor, at: now, kind: "task", action: "incident.task", summary,
                                  before: before, after: state.rawValue, on: sql)
        }
    }

    // MARK: Helpers

    static func notFound(_ id: String) -> IncidentRefusal { IncidentRefusal(.notFound, field: "id", "there is no incident \(id)") }

    /// The incident, if it exists and `version` is its version; `editable` also refuses a closed one.
    static func current(_ id: String, version: Int, on sql: any SQLDatabase, editable: Bool = false) async throws -> IncidentRecord {
        guard let incident = try await load(id, on: sql) else { throw notFound(id) }
        guard incident.version == version else {
            throw IncidentRefusal(.conflict, field: "version", "someone changed this incident since you loaded it (it is at version \(incident.version), your page showed version \(version)); reload it to see their change, then try again")
        }
        if editable, incident.status == .closed {
            throw IncidentRefusal(.conflict, field: "status", "the incident is closed, and closed is final")
        }
        return incident
    }

    /// Sets `values`, bumps the version and the update time, if the version is still the loaded one.
    static func update(_ incident: IncidentRecord, on sql: any SQLDatabase, now: Timestamp, _ values: [(String, SQLBind)]) async throws {
        var query = sql.update("incidents")
        for (column, value) in values { query = query.set(SQLColumn(column), to: value) }
        let updated = try await query.set(SQLColumn("version"), to: SQLBind(incident.version + 1)).set(SQLColumn("updated_ts"), to: SQLBind(now.microseconds))
            .where("id", .equal, SQLBind(incident.id)).where("version", .equal, SQLBind(incident.version))
            .returning("id").first()
        guard updated != nil else {
            throw IncidentRefusal(.conflict, field: "version", "someone changed incident \(incident.id) at the same moment; reload it and try again")
        }
    }

    /// The incident's alert and event counts and times, from its alerts.
    static func refreshTotals(_ id: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            UPDATE incidents SET
              alert_count = (SELECT COUNT(*) FROM incident_alerts WHERE incident_id = \(bind: id)),
              event_count = (SELECT COALESCE(SUM(CASE WHEN a.event_count > ia.event_count THEN a.event_count ELSE ia.event_count END), 0)
                             FROM incident_alerts ia LEFT JOIN alerts a ON a.id = ia.alert_id WHERE ia.incident_id = \(bind: id)),
              first_ts = COALESCE((SELECT MIN(a.first_ts) FROM alerts a JOIN incident_alerts ia ON ia.alert_id = a.id WHERE ia.incident_id = \(bind: id)), first_ts),
              last_ts = COALESCE((SELECT MAX(a.last_ts) FROM alerts a JOIN incident_alerts ia ON ia.alert_id = a.id WHERE ia.incident_id = \(bind: id)), last_ts)
            WHERE id = \(bind: id)
            """).run()
    }

    /// The timeline line and the audit row of a change.
    static func record(_ incident: IncidentRecord, actor: AuditTrail.Actor, at now: Timestamp, kind: String, action: String,
                       _ summary: String, before: String? = nil, after: String? = nil, on sql: any SQLDatabase) async throws {
        try await addTimeline(incident.id, at: now, actor: actor.name, kind: kind, summary, before: before, after: after, on: sql)
        try await AuditTrail.record(.init(time: now, actor: actor, action: action, target: "incident:\(incident.id)", before: before, after: after), on: sql)
    }
}
