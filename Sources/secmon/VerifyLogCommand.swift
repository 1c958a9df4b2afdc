import App
import ArgumentParser
import EventPipeline
import Foundation
import SQLKit

/// `secmon verify-log`: checks the hash chain through SecMon's logs and the anchors kept in the
/// database.
struct VerifyLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-log",
        abstract: "Check that SecMon's logs were not changed: every line's hash chain, and the anchors in the database.",
        discussion: """
            Each line of logs/app.log and logs/host.log ends with "chain": "ID:SEQ:HASH", the \
            SHA-256 of the line before it and this line. A changed, removed, reordered or inserted \
            line breaks the chain. The database keeps each chain's newest line (an anchor), so a log \
            whose end was cut off, or that was replaced, shows too. Gzip-compressed (rotated) logs \
            are read as they are. Exit status: 0 intact, 1 a problem was found, 2 a file could not be read.
            """
    )

    @Argument(help: ArgumentHelp("The logs to check (default: the activity log and the host log).", valueName: "file"))
    var files: [String] = []

    @Flag(name: .long, help: "Check the chains only, without the database's anchors.")
    var noDatabase = false

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var config = SecMonConfig()
        try storage.apply(to: &config, env)
        if let path = env["SECMON_HOST_LOG"], !path.isEmpty { config.hostLogPath = path }
        let paths = files.isEmpty ? [config.logPath, config.hostLogPath] : files
        var anchors: [String: [LogAnchorStore.Anchor]] = [:]
        if !noDatabase {
            let absolute = paths.map(Self.absolute)
            anchors = try await SecMonServer.withDatabase(config, logLevel: try storage.level(env)) { db in
                guard let sql = db as? any SQLDatabase else { throw CommandLineError("the database does not speak SQL") }
                var found: [String: [LogAnchorStore.Anchor]] = [:]
                for path in absolute { found[path] = try await LogAnchorStore(database: sql).anchors(path: path) }
                return found
            }
        }
        var worst: Int32 = 0
        for path in paths {
            let fileAnchors = (anchors[Self.absolute(path)] ?? []).map { ($0.id, $0.sequence, $0.hash) }
            do {
                let report = try LogVerification.verify(path: path, anchors: fileAnchors)
                Self.say(Self.summary(path, report, anchors: fileAnchors.count))
                for problem in report.problems { Self.say("  " + problem) }
                if report.problemCount > report.problems.count { Self.say("  … and \(report.problemCount - report.problems.count) more") }
                for restart in report.restarts.prefix(10) { Self.say("  note: " + restart) }
                if !report.intact { worst = max(worst, 1) }
            } catch {
                Self.say("\(path): cannot be read: \(error)")
                worst = 2
            }
        }
        if worst != 0 { throw ExitCode(worst) }
    }

    static func summary(_ path: String, _ report: LogChain.Verifier.Report, anchors: Int) -> String {
        var text = "\(path): \(report.lines) lines, \(report.chained) chained in \(report.chains.count) chain(s)"
        if report.unchained > 0 { text += ", \(report.unchained) without a chain" }
        text += anchors > 0 ? ", \(anchors) anchor(s) checked" : ", no anchors checked"
        text += report.intact ? ": intact" : ": \(report.problemCount) problem(s)"
        return text
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (full as NSString).standardizingPath
    }

    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
}
