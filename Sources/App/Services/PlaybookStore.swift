import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The `playbooks` table: the response procedures administrators edit, copied into each new
/// incident whose rule names one.
public struct PlaybookStore: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Writes the bundled playbooks that are missing (first start, or one added by an upgrade);
    /// an administrator's edits are never overwritten. Returns how many were added.
    @discardableResult
    public func seed(_ playbooks: [Playbook] = BundledPlaybooks.all, at now: Timestamp = .now()) async throws -> Int {
        var added = 0
        for playbook in playbooks {
            let row = try await database.raw("""
                INSERT INTO playbooks (name, title, description, tasks, version, updated_by, updated_ts)
                VALUES (\(bind: playbook.name), \(bind: playbook.title), \(bind: playbook.description), \(bind: AlertStore.json(playbook.tasks)),
                        1, 'secmon', \(bind: now.microseconds))
                ON CONFLICT DO NOTHING RETURNING name
                """).first()
            if row != nil {
                added += 1
                try await AuditTrail.record(.init(time: now, actor: .secmon, action: "playbook.create", target: "playbook:\(playbook.name)",
                                                  after: playbook.tasksText), on: database)
            }
        }
        return added
    }

    /// Every playbook, by name, with its version.
    public func all() async throws -> [(playbook: Playbook, version: Int, updatedBy: String, updated: Timestamp)] {
        try await database.raw("SELECT name, title, description, tasks, version, updated_by, updated_ts FROM playbooks ORDER BY name").all().map { row in
            (try Self.playbook(row), try row.decode(column: "version", as: Int.self), try row.decode(column: "updated_by", as: String.self),
             Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
        }
    }

    /// The playbook called `name`, read on `sql` (inside a transaction).
    static func find(_ name: String?, on sql: any SQLDatabase) async throws -> Playbook? {
        guard let name else { return nil }
        return try await sql.raw("SELECT name, title, description, tasks FROM playbooks WHERE name = \(bind: name)").first().map(playbook)
    }

    /// Replaces a playbook's title, description and tasks, if its version is still `version`.
    /// Incidents opened before keep the tasks they were given.
    public func update(_ name: String, title: String, description: String, tasksText: String, version: Int,
                       by actor: AuditTrail.Actor, on fluent: any Database, at now: Timestamp = .now()) async throws {
        let tasks = try Playbook.tasks(fromText: tasksText)
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.utf8.count <= 200 else {
            throw IncidentRefusal(.invalid, field: "title", "a playbook needs a title of 1 to 200 bytes")
        }
        guard description.utf8.count <= 4096 else {
            throw IncidentRefusal(.invalid, field: "description", "at most 4096 bytes (this one has \(description.utf8.count))")
        }
        try await fluent.sqlTransaction { database in
        guard let current = try await database.raw("SELECT name, title, description, tasks, version FROM playbooks WHERE name = \(bind: name)").first() else {
            throw IncidentRefusal(.notFound, field: "name", "there is no playbook named '\(name)'")
        }
        let currentVersion = try current.decode(column: "version", as: Int.self)
        guard currentVersion == version else {
            throw IncidentRefusal(.conflict, field: "version", "someone changed this playbook since you opened it (version \(currentVersion) now, yours \(version)); reload the page to see their change, then edit again")
        }
        let before = try Self.playbook(current).tasksText
        let updated = try await database.raw("""
            UPDATE playbooks SET title = \(bind: title), description = \(bind: description), tasks = \(bind: AlertStore.json(tasks)),
              version = version + 1, updated_by = \(bind: actor.name), updated_ts = \(bind: now.microseconds)
            WHERE name = \(bind: name) AND version = \(bind: version) RETURNING name
            """).first()
        guard updated != nil else {
            throw IncidentRefusal(.conflict, field: "version", "someone changed this playbook at the same moment; reload the page and edit again")
        }
        try await AuditTrail.record(.init(time: now, actor: actor, action: "playbook.update", target: "playbook:\(name)",
                                          before: before, after: Playbook(name: name, title: title, description: description, tasks: tasks).tasksText), on: database)
        }
    }

    static func playbook(_ row: any SQLRow) throws -> Playbook {
        Playbook(name: try row.decode(column: "name", as: String.self), title: try row.decode(column: "title", as: String.self),
                 description: try row.decode(column: "description", as: String.self),
                 tasks: AlertStore.decode([Playbook.Task].self, try row.decode(column: "tasks", as: String.self)) ?? [])
    }
}
