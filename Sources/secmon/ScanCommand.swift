import Analysis
import App
import ArgumentParser
import AsyncHTTPClient
import FileInspection
import EventPipeline
import Foundation
import SQLKit

/// `secmon scan`: the file scanner from the shell, without the server.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan files: hashes, type, entropy, strings, ELF/PE headers, ZIP listings, indicator lists; a verdict with every reason.",
        discussion: """
            Each file is read once, in 1 MiB chunks: memory stays flat whatever its size. Its hashes \
            are compared with the bundled list (the EICAR test file) and with the indicator lists \
            kept in the database (Console › Indicators), which is opened as the other commands \
            open it (--data-dir, --database-url); each report joins the console's scan history \
            there. --no-database skips both. YARA rules run through libyara when it is installed \
            (apt-get install libyara9). With SECMON_REPUTATION_KEY set, each file's SHA-256 (and \
            nothing else) is also looked up on VirusTotal.

            Exit status, for scripts: 0 when every file is clean; otherwise the sum of 1 (a file \
            is suspicious), 2 (a file is malicious) and 4 (a file could not be scanned).
            """
    )

    @Argument(help: "The files to scan (symbolic links are followed; FIFOs, devices and directories are refused).")
    var files: [String]
    @Option(help: "table (readable) or json (one array of reports).")
    var output: OutputFormat = .table
    @Flag(help: "Use only the bundled indicator list, without opening the database.")
    var noDatabase = false
    @Option(help: ArgumentHelp("The YARA rules (*.yar) to run; 'none' turns YARA off. (default: the rule pack's yara folder)", valueName: "dir"))
    var yara: String?
    @Option(help: "The largest file handed to YARA, which maps a file whole, in MiB.")
    var yaraMaxMib: Int = 64
    @Flag(help: "Do not ask the online reputation service (on when SECMON_REPUTATION_KEY is set), for this run.")
    var noReputation = false
    @OptionGroup var storage: StorageOptions

    enum OutputFormat: String, ExpressibleByArgument { case table, json }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file to scan") }
    }

    func run() async throws {
        var lists: [(name: String, entries: [String])] = []
        if !noDatabase {
            let env = ProcessInfo.processInfo.environment
            var config = SecMonConfig()
            try storage.apply(to: &config, env)
            lists = try await SecMonServer.withDatabase(config, logLevel: try storage.level(env)) { db in
                guard let sql = db as? any SQLDatabase else { return [] }
                return try await IndicatorListStore(database: sql).all().map { ($0.name, $0.entries) }
            }
        }
        var matchers: [any FileMatcher] = []
        if yara != "none" {
            let directory = yara ?? ((try? RulePackLocator.locate(nil)).map { $0 + "/yara" } ?? "rules/yara")
            switch YaraMatcher.load(directory: directory, maxBytes: UInt64(max(1, yaraMaxMib)) << 20) {
            case .success(let matcher): matchers.append(matcher)
            case .failure(let reason):
                // Named YARA rules that cannot run stop the scan; the default is only reported.
                if yara != nil { throw CommandLineError("YARA: \(reason)") }
                FileHandle.standardError.write(Data("secmon scan: YARA is off: \(reason)\n".utf8))
            }
        }
        let scanner = FileScanner(indicators: FileIndicators.with(lists), matchers: matchers)
        let env = ProcessInfo.processInfo.environment
        let reputationSettings = noReputation ? nil : try ReputationLookup.Settings.from(environment: env)
        let http = reputationSettings.map { _ in HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow)) }
        defer { _ = http?.shutdown() }
        let reputation = reputationSettings.flatMap { settings in http.map { ReputationLookup(settings: settings, http: $0) } }
        if let reputation, output == .table { FileHandle.standardOutput.write(Data("Reputation lookup: \(reputation.summary)\n\n".utf8)) }
        var status: Int32 = 0
        var reports: [ScanReport] = []
        var failures: [(String, String)] = []
        for file in files {
            do {
                var report = try scanner.scan(path: file)
                if let reputation { report.reasons.append(await reputation.reason(sha256: report.digests.sha256)) }
                if report.verdict == .suspicious { status |= 1 }
                if report.verdict == .malicious { status |= 2 }
                reports.append(report)
                if output == .table { FileHandle.standardOutput.write(Data(ScanText.render(report).utf8)) }
            } catch {
                status |= 4
                failures.append((file, "\(error)"))
                FileHandle.standardError.write(Data("secmon scan: \(error)\n".utf8))
            }
        }
        // The history the console shows (Files › Scanner), as scans there are kept.
        var stored = 0
        if !noDatabase && !reports.isEmpty {
            var config = SecMonConfig()
            try storage.apply(to: &config, env)
            let user = "shell:" + (env["SUDO_USER"] ?? env["USER"] ?? env["LOGNAME"] ?? "uid \(getuid())")
            let done = reports
            stored = try await SecMonServer.withDatabase(config, logLevel: try storage.level(env)) { db in
                guard let sql = db as? any SQLDatabase else { return 0 }
                let store = FileScanStore(database: sql)
                for report in done { _ = try await store.insert(report, source: "cli", by: user, at: .now()) }
                return done.count
            }
        }
        if output == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(reports))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            let counts = Dictionary(grouping: reports, by: \.verdict).mapValues(\.count)
            let summary = "\(files.count) file(s): \(counts[.malicious] ?? 0) malicious, \(counts[.suspicious] ?? 0) suspicious, "
                + "\(counts[.clean] ?? 0) clean, \(failures.count) not scanned; indicator lists: \(lists.count + 1)"
                + (noDatabase ? "" : "; \(stored) kept in the scan history") + "\n"
            FileHandle.standardOutput.write(Data(summary.utf8))
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// A scan report as the terminal shows it.
enum ScanText {
    static func render(_ report: ScanReport) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append(label.padding(toLength: 10, withPad: " ", startingAt: 0) + value) }
        row("FILE", TerminalText.safe(report.name))
        row("VERDICT", report.verdict.rawValue.uppercased())
        row("TYPE", "\(report.type.label) (\(report.size) bytes)")
        row("SHA-256", report.digests.sha256)
        row("SHA-1", report.digests.sha1)
        row("MD5", report.digests.md5)
        let e = report.entropy
        row("ENTROPY", String(format: "%.2f bits/byte; blocks %.2f to %.2f, %d of %d high", e.whole, e.minimum, e.maximum, e.highBlocks, e.blocks))
        row("YARA", report.yara)
        if let elf = report.elf {
            row("ELF", "\(elf.bits)-bit \(elf.type) \(elf.machine), entry 0x\(String(elf.entryPoint, radix: 16))"
                + (elf.interpreter.map { ", interpreter \(TerminalText.safe($0))" } ?? (elf.isStatic ? ", static" : "")))
        }
        if let pe = report.pe {
            row("PE", "\(pe.format) \(pe.machine) \(pe.subsystem)\(pe.isDLL ? " DLL" : ""), sections \(pe.sections.map { TerminalText.safe($0.name) }.joined(separator: " "))")
        }
        if let zip = report.zip {
            row("ARCHIVE", "\(zip.entriesRead) of \(zip.declaredEntries) entries, \(zip.totalUncompressed) bytes uncompressed")
            for entry in zip.entries.prefix(10) { row("", "  \(TerminalText.safe(entry.name)) (\(entry.uncompressedSize) bytes)") }
            if zip.entries.count > 10 { row("", "  … \(zip.entriesRead - 10) more") }
        }
        if !report.strings.urls.isEmpty { row("URLS", report.strings.urls.prefix(5).map(TerminalText.safe).joined(separator: " ")) }
        let strings = report.strings
        if !strings.findings.isEmpty {
            row("STRINGS", "\(strings.findings.count + strings.findingsDropped) suspicious: "
                + strings.findings.prefix(5).map { "\($0.category) '\(TerminalText.safe($0.pattern))'" }.joined(separator: ", ")
                + (strings.findings.count + strings.findingsDropped > 5 ? ", …" : ""))
        }
        if report.reasons.isEmpty { row("REASONS", "none") }
        for (index, reason) in report.reasons.enumerated() {
            row(index == 0 ? "REASONS" : "", "[\(reason.weight == .clean ? "note" : reason.weight.rawValue)] \(reason.code): \(TerminalText.safe(reason.detail))")
        }
        return lines.joined(separator: "\n") + "\n\n"
    }
}
