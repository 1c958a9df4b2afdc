import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The allowlists of host response that administrators edit in the console (Files › Quarantine):
/// processes never terminated (names or executable paths) and paths never quarantined (exact, or
/// directories ending in `/`). They add to the bundled ones and to the environment's. Audited as
/// `host_response.settings`.
public struct HostResponseSettingsStore: Sendable {
    public static let table = "host_response_settings"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    public struct Settings: Sendable, Equatable {
        public var processes: [String] = []
        public var paths: [String] = []
        public var updatedBy: String?
        public var updated: Timestamp?
    }

    public func settings() async throws -> Settings {
        guard let row = try await database.raw("SELECT * FROM host_response_settings WHERE id = 1").first() else { return Settings() }
        func lines(_ column: String) throws -> [String] {
            try row.decode(column: column, as: String.self).split(separator: "\n").map(String.init)
        }
        return Settings(processes: try lines("processes"), paths: try lines("paths"), updatedBy: try row.decode(column: "updated_by", as: String.self),
                        updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
    }

    /// Saves both lists (one entry per line), audited.
    /// - Throws: ``IncidentRefusal`` naming the list and line at fault.
    public func save(processes processText: String, paths pathText: String, by actor: AuditTrail.Actor, on fluent: any Database,
                     at now: Timestamp = .now()) async throws {
        func entries(_ text: String, field: String, check: (String) -> String?) throws -> [String] {
            var out: [String] = []
            for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = (raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
                if line.isEmpty { continue }
                if let problem = check(line) { throw IncidentRefusal(.invalid, field: field, "line \(index + 1): \(problem)") }
                out.append(line)
                guard out.count <= 500 else { throw IncidentRefusal(.invalid, field: field, "at most 500 entries") }
            }
            return out
        }
        let processes = try entries(processText, field: "processes") { line in
            line.utf8.count > 4096 || line.contains("\0") ? "'\(line.prefix(40))…' is not a process name or an executable path" : nil
        }
        let paths = try entries(pathText, field: "paths") { line in
            !line.hasPrefix("/") || line.utf8.count > 4096 || line.contains("\0") ? "'\(line.prefix(60))' is not an absolute path (start it with /)" : nil
        }
        let before = try await settings()
        try await fluent.sqlTransaction { sql in
            try await sql.raw("DELETE FROM host_response_settings WHERE id = 1").run()
            try await sql.raw("""
                INSERT INTO host_response_settings (id, processes, paths, updated_by, updated_ts)
                VALUES (1, \(bind: processes.joined(separator: "\n")), \(bind: paths.joined(separator: "\n")), \(bind: actor.name), \(bind: now.microseconds))
                """).run()
            try await AuditTrail.record(.init(time: now, actor: actor, action: "host_response.settings", target: "host_response:settings",
                                              before: "processes: \(before.processes.joined(separator: " ")); paths: \(before.paths.joined(separator: " "))",
                                              after: "processes: \(processes.joined(separator: " ")); paths: \(paths.joined(separator: " "))"), on: sql)
        }
    }
}
