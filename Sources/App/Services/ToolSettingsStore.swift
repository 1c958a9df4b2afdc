import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SecurityTools
import SQLKit

/// The security tools' settings: which targets besides loopback the port check may reach, and
/// which domains URL analysis watches for look-alikes (the organisation's own, added to the
/// bundled brands). Saving is audited (`tools.settings`).
public struct ToolSettingsStore: Sendable {
    public static let table = "tool_settings"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// The settings as saved.
    public struct Settings: Sendable, Equatable {
        public var targets: ToolTargets
        /// The administrators' own watched domains (the bundled ones always apply too).
        public var watchedDomains: [String]
        public var updatedBy: String?
        public var updated: Timestamp?

        /// Every domain URL analysis compares with.
        public var allWatched: [String] { Array(Set(watchedDomains + LookAlike.bundledWatched)).sorted() }
    }

    public func settings() async throws -> Settings {
        guard let row = try await database.raw("SELECT * FROM tool_settings WHERE id = 1").first() else {
            return Settings(targets: ToolTargets(), watchedDomains: [])
        }
        let targets = (try? ToolTargets.parse(try row.decode(column: "targets", as: String.self))) ?? ToolTargets()
        let watched = try row.decode(column: "watched_domains", as: String.self).split(separator: "\n").map(String.init)
        return Settings(targets: targets, watchedDomains: watched, updatedBy: try row.decode(column: "updated_by", as: String.self),
                        updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
    }

    /// Saves the allowed targets (addresses, networks, host names; one per line) and watched
    /// domains (one per line), audited.
    /// - Throws: ``IncidentRefusal`` naming the field and line at fault.
    public func save(targets text: String, watchedDomains watchedText: String, by actor: AuditTrail.Actor, on fluent: any Database,
                     at now: Timestamp = .now()) async throws {
        let targets: ToolTargets
        do { targets = try ToolTargets.parse(text) } catch { throw IncidentRefusal(.invalid, field: "targets", error.description) }
        var watched: [String] = []
        for (index, raw) in watchedText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let name: String
            do { name = try DomainName.validate(line) } catch {
                throw IncidentRefusal(.invalid, field: "watched_domains", "line \(index + 1): \(error.description)")
            }
            guard name.contains(".") else { throw IncidentRefusal(.invalid, field: "watched_domains", "line \(index + 1): '\(name)' is not a domain (example.com)") }
            watched.append(name)
            guard watched.count <= 500 else { throw IncidentRefusal(.invalid, field: "watched_domains", "at most 500 domains") }
        }
        let before = try await settings()
        let domains = watched
        try await fluent.sqlTransaction { sql in
            try await sql.raw("DELETE FROM tool_settings WHERE id = 1").run()
            try await sql.raw("""
                INSERT INTO tool_settings (id, targets, watched_domains, updated_by, updated_ts)
                VALUES (1, \(bind: targets.text), \(bind: domains.joined(separator: "\n")), \(bind: actor.name), \(bind: now.microseconds))
                """).run()
            try await AuditTrail.record(.init(time: now, actor: actor, action: "tools.settings", target: "tools:settings",
                                              before: "targets: \(before.targets.text.replacingOccurrences(of: "\n", with: " ")); watched: \(before.watchedDomains.joined(separator: " "))",
                                              after: "targets: \(targets.text.replacingOccurrences(of: "\n", with: " ")); watched: \(domains.joined(separator: " "))"), on: sql)
        }
    }
}
