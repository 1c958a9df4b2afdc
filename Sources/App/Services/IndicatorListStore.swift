import DetectionEngine
import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The `indicator_lists` table: the lists administrators keep for the rules' `expand`
/// placeholders (H-02 reads `%indicator_ips%`), each change audited with what was added and
/// removed. A list is kept as its administrator wrote it, comments included (why an address is
/// listed matters at 3 a.m.); its entries are read from that text. The live rules are compiled
/// against ``placeholders()``.
public struct IndicatorListStore: Sendable {
    public static let table = "indicator_lists"
    /// Most lists.
    static let maxLists = 200
    /// Most bytes of one list's text.
    static let maxTextBytes = 8 << 20
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One stored list.
    public struct List: Sendable, Hashable {
        public var name: String
        public var description: String
        /// The list as written: one entry per line, with comments.
        public var text: String
        public var entries: [String]
        public var updatedBy: String
        public var updated: Timestamp
    }

    /// What a save changed.
    public struct Change: Sendable, Hashable {
        public var added: Int
        public var removed: Int
        public var total: Int
        public var duplicates: Int
    }

    /// Every list, by name.
    public func all() async throws -> [List] {
        try await database.raw("SELECT * FROM indicator_lists ORDER BY name").all().map(Self.list)
    }

    /// The list called `name`, if there is one.
    public func find(_ name: String) async throws -> List? {
        try await database.raw("SELECT * FROM indicator_lists WHERE name = \(bind: name)").first().map(Self.list)
    }

    /// The lists as the rule loader takes them.
    public func placeholders() async throws -> PlaceholderTable {
        PlaceholderTable(Dictionary(uniqueKeysWithValues: try await all().map { ($0.name, $0.entries) }))
    }

    /// Changes whenever a list is saved or deleted (on any node): the live rules reload then.
    public func version() async throws -> String {
        let row = try await database.raw("SELECT COUNT(*) AS n, MAX(updated_ts) AS t FROM indicator_lists").first()
        let count = try row?.decode(column: "n", as: Int64.self) ?? 0
        let latest = try row?.decode(column: "t", as: Int64?.self) ?? nil
        return "\(count)@\(latest ?? 0)"
    }

    /// Creates or replaces the list `name` with the entries in `text` (``IndicatorListText``).
    /// - Throws: ``IncidentRefusal`` naming the field at fault: a bad name, a bad entry (by line),
    ///   too many entries or lists.
    public func save(name: String, description: String, text: String, by actor: AuditTrail.Actor, on fluent: any Database,
                     at now: Timestamp = .now()) async throws -> Change {
        guard PlaceholderTable.isValidName(name) else {
            throw IncidentRefusal(.invalid, field: "name", "'\(name.prefix(64))' is not a list name: use letters, digits, _ - and . (up to 64), as rules write it between %s")
        }
        guard description.utf8.count <= 1024 else { throw IncidentRefusal(.invalid, field: "description", "at most 1024 bytes") }
        guard text.utf8.count <= Self.maxTextBytes else {
            throw IncidentRefusal(.invalid, field: "entries", "\(text.utf8.count) bytes; a list is at most \(Self.maxTextBytes) bytes (write ranges as networks)")
        }
        let parsed = IndicatorListText(text)
        guard parsed.problems.isEmpty else {
            throw IncidentRefusal(.invalid, field: "entries", parsed.problems.joined(separator: "; "))
        }
        let entries = parsed.entries
        let stored = IndicatorListText.normalized(text)
        return try await fluent.sqlTransaction { sql in
            let current = try await sql.raw("SELECT * FROM indicator_lists WHERE name = \(bind: name)").first().map(Self.list)
            if current == nil {
                let count = try await sql.raw("SELECT COUNT(*) AS n FROM indicator_lists").first()?.decode(column: "n", as: Int64.self) ?? 0
                guard count < Self.maxLists else {
                    throw IncidentRefusal(.invalid, field: "name", "there are already \(Self.maxLists) lists; delete one first")
                }
                try await sql.raw("""
                    INSERT INTO indicator_lists (name, description, entries, entry_count, updated_by, updated_ts)
                    VALUES (\(bind: name), \(bind: description), \(bind: stored), \(bind: Int64(entries.count)), \(bind: actor.name), \(bind: now.microseconds))
                    """).run()
            } else {
                try await sql.raw("""
                    UPDATE indicator_lists SET description = \(bind: description), entries = \(bind: stored), entry_count = \(bind: Int64(entries.count)),
                      updated_by = \(bind: actor.name), updated_ts = \(bind: now.microseconds)
                    WHERE name = \(bind: name)
                    """).run()
            }
            let before = Set(current?.entries ?? [])
            let after = Set(entries)
            let added = after.subtracting(before), removed = before.subtracting(after)
            func sample(_ values: Set<String>) -> String {
                let sorted = values.sorted()
                return sorted.prefix(10).joined(separator: " ") + (sorted.count > 10 ? " …" : "")
            }
            var summary = "\(entries.count) entries"
            if !added.isEmpty { summary += "; added \(added.count): \(sample(added))" }
            if !removed.isEmpty { summary += "; removed \(removed.count): \(sample(removed))" }
            try await AuditTrail.record(.init(time: now, actor: actor, action: current == nil ? "indicators.create" : "indicators.update",
                                              target: "indicators:\(name)", before: current.map { "\($0.entries.count) entries" }, after: summary), on: sql)
            return Change(added: added.count, removed: removed.count, total: entries.count, duplicates: parsed.duplicates)
        }
    }

    /// Deletes the list `name`. Returns whether it existed.
    public func delete(_ name: String, by actor: AuditTrail.Actor, on fluent: any Database, at now: Timestamp = .now()) async throws -> Bool {
        try await fluent.sqlTransaction { sql in
            guard let current = try await sql.raw("SELECT * FROM indicator_lists WHERE name = \(bind: name)").first().map(Self.list) else { return false }
            try await sql.raw("DELETE FROM indicator_lists WHERE name = \(bind: name)").run()
            try await AuditTrail.record(.init(time: now, actor: actor, action: "indicators.delete", target: "indicators:\(name)",
                                              before: "\(current.entries.count) entries"), on: sql)
            return true
        }
    }

    /// The lists as a placeholder file for `secmon analyze --placeholders` (YAML, values quoted).
    public static func yaml(_ lists: [List]) -> String {
        var out = "# SecMon indicator lists, for: secmon analyze --placeholders <this file>\n"
        for list in lists {
            if !list.description.isEmpty { out += "# \(list.description.replacingOccurrences(of: "\n", with: " "))\n" }
            out += "\(list.name):"
            if list.entries.isEmpty { out += " []\n"; continue }
            out += "\n"
            for entry in list.entries { out += "  - '\(entry.replacingOccurrences(of: "'", with: "''"))'\n" }
        }
        return out
    }

    static func list(_ row: any SQLRow) throws -> List {
        let text = try row.decode(column: "entries", as: String.self)
        return List(name: try row.decode(column: "name", as: String.self), description: try row.decode(column: "description", as: String.self),
                    text: text, entries: IndicatorListText(text).entries,
                    updatedBy: try row.decode(column: "updated_by", as: String.self),
                    updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
    }
}
