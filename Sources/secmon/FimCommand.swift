import Analysis
import App
import ArgumentParser
import FileInspection
import Fluent
import Foundation
import SQLKit

/// `secmon fim`: file integrity monitoring from the shell, without the server.
struct FimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fim",
        abstract: "File integrity: record the baseline of watched paths, and compare them with it.",
        discussion: """
            The watched paths, ignore patterns, baseline and changes live in the database (the \
            same --data-dir or --database-url as the server), so the console (Files › Integrity) \
            shows what these commands record. The server checks on its own every hour and raises \
            an alert per change (rules F-01 to F-06).
            """,
        subcommands: [Baseline.self, Check.self]
    )

    static func withStore<T: Sendable>(_ storage: StorageOptions, _ body: @Sendable (FileIntegrityStore, any Database) async throws -> T) async throws -> T {
        let env = ProcessInfo.processInfo.environment
        var config = SecMonConfig()
        try storage.apply(to: &config, env)
        return try await SecMonServer.withDatabase(config, logLevel: try storage.level(env)) { db in
            guard let sql = db as? any SQLDatabase else { throw CommandLineError("the database does not speak SQL") }
            return try await body(FileIntegrityStore(database: sql), db)
        }
    }

    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    struct Baseline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "baseline",
            abstract: "Record the accepted state (SHA-256, size, mode, owner, mtime, inode, link target) of the watched paths.",
            discussion: """
                With PATHs, they become the watched paths (and --ignore patterns, when given, the \
                ignore list); without, the watched paths saved before (default: /etc, /usr/bin, \
                /usr/sbin, /usr/local/bin, /usr/local/sbin, /root/.ssh) are recorded. Open changes \
                under them are accepted. Audited as the shell user.
                """
        )
        @Argument(help: "Absolute paths to watch.") var paths: [String] = []
        @Option(name: .customLong("ignore"), help: "A glob of paths to leave alone (repeatable): '*.swp', '/var/log/**'.") var ignore: [String] = []
        @OptionGroup var storage: StorageOptions

        func validate() throws {
            for path in paths where !path.hasPrefix("/") {
                throw ValidationError("'\(path)' is not an absolute path; write it from / (for example \(FileManager.default.currentDirectoryPath)/\(path))")
            }
            do { _ = try IgnorePatterns(ignore) } catch { throw ValidationError("\(error)") }
        }

        func run() async throws {
            let paths = self.paths, ignore = self.ignore
            let actor = SecMonServer.shellActor
            let started = Date()
            let (settings, snapshot) = try await FimCommand.withStore(storage) { store, db in
                var settings = try await store.settings()
                if !paths.isEmpty {
                    try await store.saveSettings(paths: paths, ignore: ignore.isEmpty ? settings.ignore : ignore, by: actor, on: db)
                    settings = try await store.settings()
                }
                let snapshot = TreeWalker(ignore: settings.patterns).snapshot(settings.paths)
                try await store.recordBaseline(roots: settings.paths, snapshot: snapshot, by: actor, on: db)
                return (settings, snapshot)
            }
            let seconds = Date().timeIntervalSince(started)
            let kinds = Dictionary(grouping: snapshot.states.values, by: \.kind).mapValues(\.count)
            FimCommand.say("Baseline recorded: \(snapshot.states.count) paths (\(kinds[.file] ?? 0) files, \(kinds[.directory] ?? 0) directories, "
                + "\(kinds[.symlink] ?? 0) links) under \(settings.paths.joined(separator: " ")); \(snapshot.bytesHashed) bytes hashed in "
                + String(format: "%.2f s", seconds) + "; \(snapshot.ignored) ignored; \(snapshot.problems.count) unreadable.")
            if !snapshot.absentRoots.isEmpty { FimCommand.say("  not present (watched all the same): " + snapshot.absentRoots.map(TerminalText.safe).joined(separator: " ")) }
            for problem in snapshot.problems.prefix(20) { FimCommand.say("  unreadable: \(TerminalText.safe(problem.description))") }
            if snapshot.problems.count > 20 { FimCommand.say("  … \(snapshot.problems.count - 20) more") }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Compare the watched paths (or PATHs among them) with the baseline, as AIDE's check does.",
            discussion: """
                Read-only: nothing is stored and no alert is raised (the server's own checks do \
                that), so it is safe to run from cron or a deployment script.

                Exit status: 0 when nothing changed; otherwise the sum of 1 (paths added), \
                2 (deleted), 4 (modified), 8 (permissions or owner changed) and 16 (paths that \
                could not be read).
                """
        )
        @Argument(help: "Check only these paths (under the watched ones); default: all watched paths.") var paths: [String] = []
        @Option(help: "table (readable) or json.") var output: ScanCommand.OutputFormat = .table
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let paths = self.paths
            let started = Date()
            let (changes, snapshot, roots, baselineCount) = try await FimCommand.withStore(storage) { store, _ in
                let settings = try await store.settings()
                let roots = paths.isEmpty ? settings.paths : paths.map(TreeWalker.normalise)
                let baseline = try await store.baseline(under: roots)
                let snapshot = TreeWalker(ignore: settings.patterns).snapshot(roots)
                return (IntegrityComparison.changes(baseline: baseline, current: snapshot, roots: roots, ignore: settings.patterns),
                        snapshot, roots, baseline.count)
            }
            guard baselineCount > 0 else {
                throw CommandLineError("no baseline under \(roots.joined(separator: " ")): record one first with 'secmon fim baseline'")
            }
            var status: Int32 = 0
            for change in changes {
                switch change.kind {
                case .added: status |= 1
                case .deleted: status |= 2
                case .modified: status |= 4
                case .permissions: status |= 8
                }
            }
            if !snapshot.problems.isEmpty { status |= 16 }
            if output == .json {
                struct Output: Encodable { var changes: [FileChange]; var unreadable: [String]; var absent: [String]; var paths: Int; var seconds: Double }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let body = Output(changes: changes, unreadable: snapshot.problems.map(\.description), absent: snapshot.absentRoots, paths: snapshot.states.count,
                                  seconds: Date().timeIntervalSince(started))
                FileHandle.standardOutput.write(try encoder.encode(body))
                FileHandle.standardOutput.write(Data("\n".utf8))
            } else {
                if !changes.isEmpty { FimCommand.say("KIND         PATH  (CHANGED)") }
                for change in changes {
                    let detail = change.attributes.isEmpty ? "" : "  (\(change.attributes.joined(separator: ", ")))"
                    FimCommand.say(change.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + TerminalText.safe(change.path) + detail)
                }
                for problem in snapshot.problems { FimCommand.say("unreadable   " + TerminalText.safe(problem.description)) }
                for root in snapshot.absentRoots { FimCommand.say("not present  " + TerminalText.safe(root)) }
                FimCommand.say("\(changes.count) change(s) among \(snapshot.states.count) paths under \(roots.joined(separator: " ")) "
                    + String(format: "(%.2f s)", Date().timeIntervalSince(started)) + "; \(snapshot.problems.count) unreadable.")
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
