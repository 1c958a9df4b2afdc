import DetectionEngine
import LogFormats
import SecurityModel

/// Runs a rule set over lines of text from one or more inputs: decodes each line in its input's
/// format (given or detected from the first lines), feeds the engine, and collects the report.
///
/// Pure: the caller reads the inputs and hands over lines (without their newline). Inputs are one
/// stream in the order given (give rotated logs oldest first).
public struct Analyzer: Sendable {
    /// Options of a run.
    public struct Options: Sendable {
        /// Force a format instead of detecting it per input.
        public var format: LogFormat?
        public var since: Timestamp?
        public var until: Timestamp?
        public var latenessSeconds: Double = 5
        /// Places year-less syslog times.
        public var referenceTime: Timestamp
        public init(format: LogFormat? = nil, since: Timestamp? = nil, until: Timestamp? = nil,
                    latenessSeconds: Double = 5, referenceTime: Timestamp) {
            self.format = format
            self.since = since
            self.until = until
            self.latenessSeconds = latenessSeconds
            self.referenceTime = referenceTime
        }
    }

    /// Rejected lines listed one by one in the report (all are counted).
    public static let maxListedRejections = 50
    /// Distinct rejection reasons counted one by one; the rest are counted together.
    public static let maxRejectionReasons = 100
    /// The reason under which rejections past ``maxRejectionReasons`` kinds are counted.
    public static let otherReasons = "other reasons (more than 100 kinds)"
    /// Lines looked at to detect a format.
    public static let detectionSampleLines = 20

    public let rules: RuleSet
    public let options: Options
    public private(set) var engine: DetectionEngine
    /// The report so far (the current input's line, byte and event counts included).
    public var report: AnalysisReport {
        var report = stored
        if current >= 0 {
            report.inputs[current].lines += counts.lines
            report.inputs[current].bytes += counts.bytes
            report.inputs[current].events += counts.events
        }
        return report
    }
    private var stored = AnalysisReport()
    /// The current input's counts not yet added to `stored` (added when the input ends: counting
    /// into the report's array for every line cost a uniqueness check each time).
    private var counts = (lines: Int64(0), bytes: Int64(0), events: Int64(0))
    private var decoder: LineDecoder?
    private var pending: [(line: [UInt8], number: Int64)] = []
    private var record: EventRecord
    private var current = -1
    private var lineNumber: Int64 = 0
    private let keepRaw: Bool

    public init(rules: RuleSet, options: Options) {
        self.rules = rules
        self.options = options
        self.engine = DetectionEngine(rules: rules, latenessSeconds: options.latenessSeconds)
        self.record = EventRecord(slotCount: rules.fields.count)
        self.keepRaw = rules.needsRawLine
        stored.rulesLoaded = rules.count
    }

    /// Starts the next input.
    public mutating func beginInput(_ name: String) {
        flushPending()
        addCounts()
        current = stored.inputs.count
        stored.inputs.append(.init(name: name, format: options.format))
        lineNumber = 0
        decoder = options.format.map(makeDecoder)
    }

    /// Records that the current input could not be read (or stopped being readable).
    public mutating func failInput(_ message: String) {
        flushPending()
        if current >= 0 { stored.inputs[current].failure = message }
    }

    /// Feeds one line of the current input.
    public mutating func feed(_ line: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        counts.lines += 1
        counts.bytes += Int64(line.count) + 1
        if decoder != nil {
            decodeLine(line, number: lineNumber)
            return
        }
        // Detecting: keep the first lines until there are enough to judge.
        guard line.count <= LineDecoder.maxLineBytes else {
            reject(lineNumber, "line of \(line.count) bytes is longer than the \(LineDecoder.maxLineBytes)-byte limit")
            return
        }
        pending.append((Array(line), lineNumber))
        if pending.count >= Self.detectionSampleLines { flushPending() }
    }

    /// Ends the input stream: closes open alerts and completes the report.
    public mutating func finish() -> AnalysisReport {
        flushPending()
        engine.finish()
        collect()
        addCounts()
        stored.engine = engine.statistics
        stored.alerts.sort { ($0.firstTime, $0.number) < ($1.firstTime, $1.number) }
        return stored
    }

    /// Alerts closed since the last call (for streaming output); they stay in the final report,
    /// and their numbers are in ``streamed``.
    public mutating func takeClosedAlerts() -> [Alert] {
        collect()
        let fresh = Array(stored.alerts[streamedCount...])
        streamedCount = stored.alerts.count
        streamed += fresh.map(\.number)
        return fresh
    }

    /// Numbers of the alerts already handed out by ``takeClosedAlerts()``.
    public private(set) var streamed: [Int] = []
    private var streamedCount = 0

    /// Counts a line too long to hold (the reader reports only its length).
    public mutating func feedOversized(length: Int) {
        lineNumber += 1
        counts.lines += 1
        counts.bytes += Int64(length) + 1
        reject(lineNumber, "line of \(length) bytes is longer than the \(LineDecoder.maxLineBytes)-byte limit")
    }

    // MARK: -

    private func makeDecoder(_ format: LogFormat) -> LineDecoder {
        // Syslog lines switch between the sshd and syslog streams per line: give them both sets.
        let streams = format == .syslog ? [LogSource.sshd, .syslog] : [format.logSource]
        let names = streams.reduce(into: Set<String>()) { $0.formUnion(rules.fieldNames(for: $1)) }
        return LineDecoder(format: format, fields: rules.fields, only: names, keepRawLine: keepRaw, referenceTime: options.referenceTime)
    }

    private mutating func flushPending() {
        guard !pending.isEmpty, current >= 0 else { return }
        if decoder == nil {
            let samples = pending.map(\.line).filter { !$0.isEmpty }
            if let format = LogFormat.detect(samples, referenceTime: options.referenceTime) {
                stored.inputs[current].format = format
                decoder = makeDecoder(format)
            }
        }
        let lines = pending
        pending.removeAll()
        guard decoder != nil else {
            for (_, number) in lines { reject(number, "format not recognised (the first lines match none of activity, json, access, syslog; use --format)") }
            return
        }
        for (line, number) in lines {
            line.withUnsafeBufferPointer { decodeLine($0, number: number) }
        }
    }

    /// Decodes and processes one line with the current input's decoder (which must be set).
    private mutating func decodeLine(_ line: UnsafeBufferPointer<UInt8>, number: Int64) {
        if line.isEmpty { return }
        record.ref = .line(source: Int32(current), line: number)
        do {
            try decoder!.decode(line, into: &record)
        } catch {
            reject(number, error.reason)
            return
        }
        if let since = options.since, record.timestamp < since { stored.inputs[current].outsideRange += 1; return }
        if let until = options.until, record.timestamp > until { stored.inputs[current].outsideRange += 1; return }
        counts.events += 1
        engine.process(record)
        if engine.hasUpdates { collect() }
    }

    /// Adds the current input's counts to the stored report.
    private mutating func addCounts() {
        guard current >= 0 else { return }
        stored.inputs[current].lines += counts.lines
        stored.inputs[current].bytes += counts.bytes
        stored.inputs[current].events += counts.events
        counts = (0, 0, 0)
    }

    private mutating func reject(_ number: Int64, _ reason: String) {
        stored.inputs[current].rejected += 1
        if stored.rejections.count < Self.maxListedRejections {
            stored.rejections.append(Rejection(input: stored.inputs[current].name, line: number, reason: reason))
        }
        var key = reason.range(of: " at byte ").map { String(reason[..<$0.lowerBound]) } ?? reason
        // Reasons may quote the line ("invalid number '…'"): the table of reasons stays bounded.
        if stored.rejectionReasons[key] == nil, stored.rejectionReasons.count >= Self.maxRejectionReasons {
            key = Self.otherReasons
        }
        stored.rejectionReasons[key, default: 0] += 1
    }

    private mutating func collect() {
        for update in engine.drainUpdates() {
            if case .closed(let alert) = update { stored.alerts.append(alert) }
        }
    }
}
