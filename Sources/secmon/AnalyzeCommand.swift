import Analysis
import ArgumentParser
import DetectionEngine
import EventPipeline
import Foundation
import LogFormats
import SecurityModel

/// `secmon analyze`: run the detection rules over log files, in batch.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Run the detection rules over log files (plain or gzip) or standard input.",
        discussion: """
            Formats are detected per file (activity, json, access, syslog) unless --format is given. \
            Inputs are read as one stream in the order given; when their events turn out not to be \
            in time order (beyond --lateness), the files are put in time order across all of them \
            (spilling to --spill-dir within --sort-memory) and analysed again, so any order of lines \
            and files gives the same alerts. Standard input cannot be read twice: it keeps the \
            lateness window, and the summary says how many events came too late. \
            Lines that cannot be decoded are counted and listed with file, line and reason.

            Exit status: 0; 1 when --fail-on is given and an alert at or above that level fired; \
            2 when the rules have errors or an input could not be read; 64 for a bad option value.
            """
    )

    @Argument(help: "Log files to read ('-' for standard input).")
    var inputs: [String]

    @Option(name: .long, help: "Rule directory or file (default: the bundled pack; env SECMON_RULES).")
    var rules: String?

    @Option(name: .long, help: "YAML file of placeholder lists for the rules' 'expand' values (name: [values]), as the console's Indicators page exports them.")
    var placeholders: String?

    @Option(name: .long, help: "Input format: activity, json, access or syslog (default: detected per input).")
    var format: String?

    @Option(name: .long, help: "Output: table, json or ndjson.")
    var output: String = "table"

    @Option(name: .long, help: "Only events at or after this time (ISO-8601, UTC unless a zone is given).")
    var since: String?

    @Option(name: .long, help: "Only events at or before this time (ISO-8601).")
    var until: String?

    @Option(name: .long, help: "Exit with status 1 when an alert at or above this level fires (informational, low, medium, high, critical).")
    var failOn: String?

    @Option(name: .long, help: "How far out of time order events may arrive and still be correlated, in seconds.")
    var lateness: Double = 5

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    @Option(name: .long, help: "Where unordered input is sorted on disk (default: TMPDIR or /tmp).")
    var spillDir: String?

    @Option(name: .long, help: "Memory for sorting unordered input, in MiB, before it spills to --spill-dir.")
    var sortMemory: Int = 64

    func run() throws {
        do {
            try analyze()
        } catch let error as CommandLineError {
            // Each documented status exactly: a script must tell broken rules (2) from an attack (1).
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }

    private func analyze() throws {
        let style = try parse(output, as: AlertRenderer.Style.self, "--output")
        let forcedFormat = try format.map { try parse($0, as: LogFormat.self, "--format") }
        let threshold = try failOn.map { try parse($0, as: Severity.self, "--fail-on") }
        let sinceTime = try since.map { try time($0, "--since") }
        let untilTime = try until.map { try time($0, "--until") }
        guard lateness >= 0 else { throw CommandLineError("--lateness must be zero or more seconds") }
        guard (1...65_536).contains(sortMemory) else { throw CommandLineError("--sort-memory must be 1 to 65536 MiB") }

        let ruleSet: RuleSet
        do {
            ruleSet = try RuleLoading.load(try RulePackLocator.locate(rules), printWarnings: false, placeholders: try RuleLoading.placeholders(placeholders))
        } catch let error as CommandLineError {
            throw error
        } catch {
            throw CommandLineError("\(error)", exitCode: 2)
        }
        let options = Analyzer.Options(format: forcedFormat, since: sinceTime, until: untilTime, latenessSeconds: lateness,
                                       referenceTime: Timestamp(secondsSince1970: Date().timeIntervalSince1970))
        var analyzer = Analyzer(rules: ruleSet, options: options)
        let renderer = AlertRenderer(inputNames: inputs.map { $0 == "-" ? "stdin" : $0 })
        let out = FileHandle.standardOutput
        let progress = ProgressLine(enabled: !quiet && isatty(2) == 1)
        let started = Date()
        var inputFailed = false

        // Files can be read again: when their events are not in time order, stop and sort them.
        let rereadable = !inputs.contains("-")
        var unordered = false
        inputLoop: for (index, path) in inputs.enumerated() {
            analyzer.beginInput(renderer.inputNames[index])
            do {
                let reader = try LineReader(path: path, maxLineBytes: LineDecoder.maxLineBytes)
                var counter = 0
                try reader.forEach { item in
                    switch item {
                    case .line(let line): analyzer.feed(line)
                    case .oversized(let length): analyzer.feedOversized(length: length)
                    }
                    counter &+= 1
                    if counter & 0xFFF == 0, rereadable, analyzer.outOfOrder > 0 { throw OutOfOrder() }
                    if counter & 0xFFFF == 0 {
                        progress.update(name: renderer.inputNames[index], consumed: reader.consumed, size: reader.fileSize,
                                        events: analyzer.report.totalEvents, since: started)
                        if style == .ndjson { emit(analyzer.takeClosedAlerts(), renderer, out) }
                    }
                }
                if rereadable, analyzer.outOfOrder > 0 { throw OutOfOrder() }
            } catch is OutOfOrder {
                unordered = true
                break inputLoop
            } catch {
                inputFailed = true
                analyzer.failInput("\(error)")
                FileHandle.standardError.write(Data("secmon analyze: \(error)\n".utf8))
            }
        }
        var ordering: String?
        if unordered {
            let first = analyzer.firstOutOfOrder
            let streamedBefore = analyzer.streamed.count
            let directory = spillDir ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            if !quiet {
                let place = first.map { " (line \($0.line) of \(renderer.inputNames[$0.input]) is \(String(format: "%.0f", $0.seconds)) s older than an event before it)" } ?? ""
                FileHandle.standardError.write(Data("secmon analyze: the input is not in time order\(place); sorting it and analysing again\n".utf8))
                if streamedBefore > 0 {
                    FileHandle.standardError.write(Data("secmon analyze: the \(streamedBefore) alert(s) printed so far came from unordered input; the alerts printed from here on replace them\n".utf8))
                }
            }
            progress.clear()
            let sorting = TimeOrderedInput(paths: inputs, rules: ruleSet, format: forcedFormat, referenceTime: options.referenceTime,
                                           spillDirectory: directory, memoryBytes: sortMemory << 20)
            let sorted: (formats: [LogFormat?], sorter: ExternalSorter)
            do {
                sorted = try sorting.sort { name, consumed, size in
                    progress.update(name: "sorting " + name, consumed: consumed, size: size, events: 0, since: started)
                }
            } catch {
                throw CommandLineError("\(error)", exitCode: 2)
            }
            analyzer = Analyzer(rules: ruleSet, options: options)
            analyzer.beginInputs(renderer.inputNames, formats: sorted.formats)
            try TimeOrderedInput.feed(sorted.sorter, into: &analyzer)
            let stats = sorted.sorter.statistics
            ordering = "input not in time order: \(stats.records) lines sorted by time across the inputs"
                + (stats.runs > 0 ? " (\(stats.runs) runs, \(stats.spilledBytes / 1_000_000) MB spilled to \(directory))" : " (in memory)")
        } else if !rereadable, analyzer.outOfOrder > 0 {
            ordering = "standard input is read once, so it was not sorted: \(analyzer.outOfOrder) event(s) came more than \(lateness) s after a later one"
                + " (give the files instead to have them sorted)"
        }
        progress.clear()
        var report = analyzer.finish()
        report.ordering = ordering
        let elapsed = Date().timeIntervalSince(started)
        switch style {
        case .table:
            out.write(Data(renderer.table(report.alerts).utf8))
            out.write(Data(("\n" + renderer.summary(report, elapsedSeconds: elapsed)).utf8))
        case .ndjson:
            let alreadyStreamed = Set(analyzer.streamed)
            emit(report.alerts.filter { !alreadyStreamed.contains($0.number) }, renderer, out)
            FileHandle.standardError.write(Data(renderer.summary(report, elapsedSeconds: elapsed).utf8))
        case .json:
            out.write(Data((renderer.document(report, elapsedSeconds: elapsed) + "\n").utf8))
        }
        if inputFailed { throw ExitCode(2) }
        if let threshold, let highest = report.highestLevel, highest >= threshold { throw ExitCode(1) }
    }

    /// Thrown to stop reading when the input turns out not to be in time order.
    private struct OutOfOrder: Error {}

    private func emit(_ alerts: [Alert], _ renderer: AlertRenderer, _ out: FileHandle) {
        guard !alerts.isEmpty else { return }
        out.write(Data(alerts.map { renderer.json($0) + "\n" }.joined().utf8))
    }

    private func parse<T: RawRepresentable & CaseIterable>(_ text: String, as: T.Type, _ option: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text.lowercased()) else {
            throw CommandLineError("\(option) '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    private func time(_ text: String, _ option: String) throws -> Timestamp {
        if let time = Timestamp(iso8601: text) { return time }
        if text.count == 10, let time = Timestamp(iso8601: text + "T00:00:00") { return time }
        throw CommandLineError("\(option) '\(text)' is not a time; use 2026-11-22, 2026-11-22T10:00:00 or 2026-11-22T10:00:00+01:00")
    }
}
