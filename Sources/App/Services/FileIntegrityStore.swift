import EventPipeline
import FileInspection
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// File integrity monitoring's tables: the watched paths and ignore patterns, the accepted
/// baseline, and the changes checks find. A change stays open until an administrator accepts it
/// (its new state becomes the baseline) or accepts the whole new state; a check does not report a
/// change again while the same one is open. Every administrative step is audited.
public struct FileIntegrityStore: Sendable {
    public static let settingsTable = "fim_settings"
    public static let baselineTable = "fim_baseline"
    public static let changesTable = "fim_changes"
    /// Watched when an administrator has saved nothing: where a compromise usually shows.
    public static let defaultPaths = ["/etc", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/root/.ssh"]
    /// Files that change in normal operation.
    public static let defaultIgnore = ["/etc/mtab", "/etc/adjtime", "/etc/ld.so.cache", "*.swp", "*~"]
    /// Rows per INSERT (SQLite's bound-parameter limit is 32,766).
    static let insertBatch = 1000

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// What is watched.
    public struct Settings: Sendable, Equatable {
        public var paths: [String]
        public var ignore: [String]
        public var updatedBy: String?
        public var updated: Timestamp?

        public var patterns: IgnorePatterns { (try? IgnorePatterns(ignore)) ?? .none }
    }

    /// One change as stored.
    public struct Change: Sendable, Equatable {
        public var id: String
        public var change: FileChange
        public var detected: Timestamp
        /// `open`, `accepted`, or `superseded` (the path changed again before anyone looked).
        public var status: String
        public var resolvedBy: String?
        public var resolved: Timestamp?
    }

    // MARK: settings

    public func settings() async throws -> Settings {
        guard let row = try await database.raw("SELECT * FROM fim_settings WHERE id = 1").first() else {
            return Settings(paths: Self.defaultPaths, ignore: Self.defaultIgnore)
        }
        return Settings(paths: Self.lines(try row.decode(column: "paths", as: String.self)),
                        ignore: Self.lines(try row.decode(column: "ignore", as: String.self)),
                        updatedBy: try row.decode(column: "updated_by", as: String.self),
                        updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
    }

    /// Saves the watched paths (absolute, one per line) and ignore patterns, audited.
    /// - Throws: ``IncidentRefusal`` naming the bad path or pattern.
    public func saveSettings(paths: [String], ignore: [String], by actor: AuditTrail.Actor, on fluent: any Database,
                             at now: Timestamp = .now()) async throws {
        let paths = paths.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !paths.isEmpty else { throw IncidentRefusal(.invalid, field: "paths", "name at least one absolute path to watch") }
        guard paths.count <= 200 else { throw IncidentRefusal(.invalid, field: "paths", "at most 200 watched paths") }
        for path in paths where !path.hasPrefix("/") || path.utf8.count > 4096 || path.contains("\0") {
            throw IncidentRefusal(.invalid, field: "paths", "'\(path.prefix(80))' is not an absolute path (start it with /)")
        }
        let ignore = ignore.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard ignore.count <= 500 else { throw IncidentRefusal(.invalid, field: "ignore", "at most 500 ignore patterns") }
        do { _ = try IgnorePatterns(ignore) } catch { throw IncidentRefusal(.invalid, field: "ignore", "\(error)") }
        let before = try await settings()
        let normalised = paths.map(TreeWalker.normalise)
        try await fluent.sqlTransaction { sql in
            try await sql.raw("DELETE FROM fim_settings WHERE id = 1").run()
            try await sql.raw("""
                INSERT INTO fim_settings (id, paths, ignore, updated_by, updated_ts)
                VALUES (1, \(bind: normalised.joined(separator: "\n")), \(bind: ignore.joined(separator: "\n")), \(bind: actor.name), \(bind: now.microseconds))
                """).run()
            try await AuditTrail.record(.init(time: now, actor: actor, action: "fim.settings", target: "fim:settings",
                                              before: "paths: \(before.paths.joined(separator: " ")); ignore: \(before.ignore.joined(separator: " "))",
                                              after: "paths: \(normalised.joined(separator: " ")); ignore: \(ignore.joined(separator: " "))"), on: sql)
        }
    }

    // MARK: baseline

    /// The baseline entries under `roots` (all of them when nil), by path.
    public func baseline(under roots: [String]? = nil) async throws -> [String: FileState] {
        var out: [String: FileState] = [:]
        for row in try await database.raw("SELECT * FROM fim_baseline").all() {
            let state = try Self.state(row)
            if let roots, !roots.contains(where: { IntegrityComparison.isUnder(state.path, TreeWalker.normalise($0)) }) { continue }
            out[state.path] = state
        }
        return out
    }

    /// How many paths the baseline holds, and when it was last recorded.
    public func baselineSummary() async throws -> (count: Int, recorded: Timestamp?, by: String?) {
        let row = try await database.raw("SELECT COUNT(*) AS n, MAX(recorded_ts) AS t FROM fim_baseline").first()
        let count = try row?.decode(column: "n", as: Int64.self) ?? 0
        guard let latest = try row?.decode(column: "t", as: Int64?.self) ?? nil else { return (Int(count), nil, nil) }
        let by = try await database.raw("SELECT recorded_by FROM fim_baseline WHERE recorded_ts = \(bind: latest) LIMIT 1").first()?
            .decode(column: "recorded_by", as: String.self)
        return (Int(count), Timestamp(microseconds: latest), by)
    }

    /// Replaces the baseline under `roots` with `snapshot`'s states, and closes the open changes
    /// there as accepted (the new state is the accepted one now). Audited as `fim.baseline`.
    public func recordBaseline(roots: [String], snapshot: TreeSnapshot, by actor: AuditTrail.Actor, on fluent: any Database,
                               at now: Timestamp = .now()) async throws {
        let roots = roots.map(TreeWalker.normalise)
        // In path order: each row then lands at the right edge of the primary key's B-tree, where
        // a random order (a dictionary's) splits pages all over it (bench/files.sh).
        let states = snapshot.states.values.sorted { $0.path < $1.path }
        try await fluent.sqlTransaction { sql in
            for root in roots {
                try await sql.raw("DELETE FROM fim_baseline WHERE path = \(bind: root) OR path LIKE \(bind: Self.likePrefix(root)) ESCAPE '\\'").run()
                try await sql.raw("""
                    UPDATE fim_changes SET status = 'accepted', resolved_by = \(bind: actor.name), resolved_ts = \(bind: now.microseconds)
                    WHERE status = 'open' AND (path = \(bind: root) OR path LIKE \(bind: Self.likePrefix(root)) ESCAPE '\\')
                    """).run()
            }
            try await Self.insert(states, into: sql, at: now, by: actor.name)
            try await AuditTrail.record(.init(time: now, actor: actor, action: "fim.baseline", target: "fim:baseline",
                                              after: "\(states.count) paths under \(roots.joined(separator: " ")); \(snapshot.problems.count) unreadable"), on: sql)
        }
    }

    static func insert(_ states: [FileState], into sql: any SQLDatabase, at now: Timestamp, by name: String) async throws {
        var index = 0
        while index < states.count {
            let end = min(index + insertBatch, states.count)
            var insert = sql.insert(into: baselineTable)
                .columns("path", "kind", "sha256", "size", "mode", "uid", "gid", "mtime_ns", "inode", "link_target", "recorded_ts", "recorded_by")
            for state in states[index..<end] {
                insert = insert.values([
                    SQLBind(state.path), SQLBind(state.kind.rawValue), SQLBind(state.sha256), SQLBind(Int64(clamping: state.size)),
                    SQLBind(Int64(state.mode)), SQLBind(Int64(state.uid)), SQLBind(Int64(state.gid)), SQLBind(state.mtimeNanos),
                    SQLBind(Int64(bitPattern: state.inode)), SQLBind(state.linkTarget), SQLBind(now.microseconds), SQLBind(name),
                ])
            }
            try await insert.run()
            index = end
        }
    }

    // MARK: changes

    /// Stores the changes a check found and answers the ones that are new: a change identical to
    /// one still open is not stored again; an open change of a path that changed again is
    /// superseded by the new one.
    public func record(_ changes: [FileChange], on fluent: any Database, at now: Timestamp = .now()) async throws -> [FileChange] {
        guard !changes.isEmpty else { return [] }
        let open = try await openFingerprints()
        let fresh = changes.filter { open[$0.path] != Self.fingerprint($0) }
        guard !fresh.isEmpty else { return [] }
        try await fluent.sqlTransaction { sql in
            for change in fresh {
                if open[change.path] != nil {
                    try await sql.raw("UPDATE fim_changes SET status = 'superseded', resolved_ts = \(bind: now.microseconds) WHERE status = 'open' AND path = \(bind: change.path)").run()
                }
                try await sql.raw("""
                    INSERT INTO fim_changes (id, path, kind, attributes, old_state, new_state, fingerprint, detected_ts, status)
                    VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: change.path), \(bind: change.kind.rawValue), \(bind: change.attributes.joined(separator: ",")),
                            \(bind: Self.json(change.old)), \(bind: Self.json(change.new)), \(bind: Self.fingerprint(change)), \(bind: now.microseconds), 'open')
                    """).run()
            }
        }
        return fresh
    }

    /// Open changes' fingerprints by path.
    func openFingerprints() async throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try await database.raw("SELECT path, fingerprint FROM fim_changes WHERE status = 'open'").all() {
            out[try row.decode(column: "path", as: String.self)] = try row.decode(column: "fingerprint", as: String.self)
        }
        return out
    }

    /// Changes, newest first: the open ones, or all of them.
    public func changes(openOnly: Bool, limit: Int = 500) async throws -> [Change] {
        let rows = openOnly
            ? try await database.raw("SELECT * FROM fim_changes WHERE status = 'open' ORDER BY detected_ts DESC, path LIMIT \(bind: limit)").all()
            : try await database.raw("SELECT * FROM fim_changes ORDER BY detected_ts DESC, path LIMIT \(bind: limit)").all()
        return try rows.map(Self.change)
    }

    public func change(_ id: String) async throws -> Change? {
        try await database.raw("SELECT * FROM fim_changes WHERE id = \(bind: id)").first().map(Self.change)
    }

    public func openCount() async throws -> Int {
        Int(try await database.raw("SELECT COUNT(*) AS n FROM fim_changes WHERE status = 'open'").first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    /// Accepts the open changes `ids` (all open ones when nil): each path's new state becomes its
    /// baseline (a deleted path leaves the baseline). Answers how many were accepted.
    public func accept(_ ids: [String]?, by actor: AuditTrail.Actor, on fluent: any Database, at now: Timestamp = .now()) async throws -> Int {
        let targets: [Change]
        if let ids {
            // Only the named changes are read (an accept from the page names one).
            var named: [Change] = []
            for id in Set(ids) { if let change = try await change(id), change.status == "open" { named.append(change) } }
            targets = named.sorted { $0.change.path < $1.change.path }
        } else {
            targets = try await changes(openOnly: true, limit: 1_000_000)
        }
        guard !targets.isEmpty else { return 0 }
        try await fluent.sqlTransaction { sql in
            for target in targets {
                try await sql.raw("DELETE FROM fim_baseline WHERE path = \(bind: target.change.path)").run()
                if let new = target.change.new { try await Self.insert([new], into: sql, at: now, by: actor.name) }
                try await sql.raw("""
                    UPDATE fim_changes SET status = 'accepted', resolved_by = \(bind: actor.name), resolved_ts = \(bind: now.microseconds)
                    WHERE id = \(bind: target.id)
                    """).run()
            }
            let sample = targets.prefix(10).map { "\($0.change.kind.rawValue) \($0.change.path)" }.joined(separator: "; ")
            try await AuditTrail.record(.init(time: now, actor: actor, action: ids == nil ? "fim.accept_all" : "fim.accept",
                                              target: targets.count == 1 ? "fim:\(targets[0].change.path)" : "fim:changes",
                                              after: "\(targets.count) change(s) accepted: \(sample)\(targets.count > 10 ? " …" : "")"), on: sql)
        }
        return targets.count
    }

    // MARK: rows

    static func fingerprint(_ change: FileChange) -> String {
        let new = change.new
        return [change.kind.rawValue, new?.sha256 ?? "-", new.map { "\($0.size)/\($0.mode)/\($0.uid)/\($0.gid)/\($0.mtimeNanos)/\($0.inode)" } ?? "-",
                new?.linkTarget ?? "-"].joined(separator: "|")
    }

    static func json(_ state: FileState?) -> String? {
        guard let state, let data = try? JSONEncoder().encode(state) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeState(_ text: String?) -> FileState? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(FileState.self, from: Data(text.utf8))
    }

    static func change(_ row: any SQLRow) throws -> Change {
        let attributes = try row.decode(column: "attributes", as: String.self)
        let kind = FileChange.Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .modified
        let change = FileChange(path: try row.decode(column: "path", as: String.self), kind: kind,
                                attributes: attributes.isEmpty ? [] : attributes.split(separator: ",").map(String.init),
                                old: decodeState(try row.decode(column: "old_state", as: String?.self)),
                                new: decodeState(try row.decode(column: "new_state", as: String?.self)))
        return Change(id: try row.decode(column: "id", as: String.self), change: change,
                      detected: Timestamp(microseconds: try row.decode(column: "detected_ts", as: Int64.self)),
                      status: try row.decode(column: "status", as: String.self),
                      resolvedBy: try row.decode(column: "resolved_by", as: String?.self),
                      resolved: try row.decode(column: "resolved_ts", as: Int64?.self).map(Timestamp.init(microseconds:)))
    }

    static func state(_ row: any SQLRow) throws -> FileState {
        FileState(path: try row.decode(column: "path", as: String.self),
                  kind: FileKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .unknown,
                  sha256: try row.decode(column: "sha256", as: String?.self),
                  size: UInt64(clamping: try row.decode(column: "size", as: Int64.self)),
                  mode: UInt32(truncatingIfNeeded: try row.decode(column: "mode", as: Int64.self)),
                  uid: UInt32(truncatingIfNeeded: try row.decode(column: "uid", as: Int64.self)),
                  gid: UInt32(truncatingIfNeeded: try row.decode(column: "gid", as: Int64.self)),
                  mtimeNanos: try row.decode(column: "mtime_ns", as: Int64.self),
                  inode: UInt64(bitPattern: try row.decode(column: "inode", as: Int64.self)),
                  linkTarget: try row.decode(column: "link_target", as: String?.self))
    }

    /// `root/%` with LIKE's wildcards in `root` escaped.
    static func likePrefix(_ root: String) -> String {
        var out = ""
        for c in root {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return (root == "/" ? "" : out) + "/%"
    }

    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }
}
