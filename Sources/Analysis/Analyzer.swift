import DetectionEngine
import LogFormats
import SecurityModel

/// Runs a rule set over lines of text from one or more inputs: decodes each line in its input's
/// format (given or detected from the first lines), feeds the engine, and collects the report.
///
/// Pure: the caller reads the inputs and hands over lines (without their newline). Inputs are one
/// stream in the order given, or, for input the caller has put in time order across inputs, lines
/// of any input in any sequence (``beginInputs(_:formats:)``, ``feed(_:input:number:)``). It counts
/// events that come more than the lateness window after a later one (``outOfOrder``), so the
/// caller can tell unordered input and sort it.
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
        /// Bounds on the engine's state and rule screen.
        public var limits: DetectionEngine.Limits
        public init(format: LogFormat? = nil, since: Timestamp? = nil, until: Timestamp? = nil,
                    latenessSeconds: Double = 5, referenceTime: Timestamp, limits: DetectionEngine.Limits = .default) {
            self.limits = limits
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
    /// The decoders of all inputs, when they are fed interleaved (the current one is in `decoder`).
    private var decoders: [LineDecoder?] = []
    /// The latest event time seen, and how many events came more than the lateness window before it.
    private var latestSeen = Int64.min
    public private(set) var outOfOrder: Int64 = 0
    /// The first such event: where, and how far behind.
    public private(set) var firstOutOfOrder: (input: Int, line: Int64, seconds: Double)?
    private let latenessMicroseconds: Int64
    private var pending: [(line: [UInt8], number: Int64)] = []
    private var record: EventRecord
    private var current = -1
    private var lineNumber: Int64 = 0
    private let keepRaw: Bool

    public init(rules: RuleSet, options: Options) {
        self.rules = rules
        self.options = options
        self.engine = DetectionEngine(rules: rules, latenessSeconds: options.latenessSeconds, limits: options.limits)
        self.record = EventRecord(slotCount: rules.fields.count)
        self.keepRaw = rules.needsRawLine
        self.latenessMicroseconds = Int64(max(0, min(options.latenessSeconds, 1e9)) * 1_000_000)
        stored.rulesLoaded = rules.count
    }

    /// Starts every input at once, with the formats the caller detected, for lines fed in time
    /// order across inputs with ``feed(_:input:number:)``. Inputs without a format reject their lines.
    public mutating func beginInputs(_ names: [String], formats: [LogFormat?]) {
        flushPending()
        addCounts()
        let first = stored.inputs.count
        if decoders.count < first { decoders += Array(repeating: nil, count: first - decoders.count) }
        for (name, format) in zip(names, formats) {
            stored.inputs.append(.init(name: name, format: format))
            decoders.append(format.map(makeDecoder))
        }
        current = -1
        decoder = nil
    }

    /// Feeds line `number` of input `input` (started with ``beginInputs(_:formats:)``).
    public mutating func feed(_ line: UnsafeBufferPointer<UInt8>, input: Int, number: Int64) {
        select(input)
        counts.lines += 1
        counts.bytes += Int64(line.count) + 1
        guard decoder != nil else {
            if !line.isEmpty { reject(number, "format not recognised (the first lines match none of activity, json, access, syslog; use --format)") }
            return
        }
        decodeLine(line, number: number)
    }

    /// Counts an oversized line of input `input` (started with ``beginInputs(_:formats:)``).
    public mutating func feedOversized(length: Int, input: Int, number: Int64) {
        select(input)
        counts.lines += 1
        counts.bytes += Int64(length) + 1
        reject(number, "line of \(length) bytes is longer than the \(LineDecoder.maxLineBytes)-byte limit")
    }

    private mutating func select(_ input: Int) {
        guard input != current else { return }
        addCounts()
        if current >= 0, current < decoders.count { decoders[current] = decoder }
        current = input
        decoder = input < decoders.count ? decoders[input] : nil
        if input < decoders.count { decoders[input] = nil } // held in `decoder` meanwhile (no copy on write)
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
        // Syslog and host lines switch streams per line: give them every stream's fields.
        let names = format.logSources.reduce(into: Set<String>()) { $0.formUnion(rules.fieldNames(for: $1)) }
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
        let time = record.timestamp.microseconds
        if time > latestSeen {
            latestSeen = time
        } else if latestSeen &- time > latenessMicroseconds {
            outOfOrder &+= 1
            if firstOutOfOrder == nil { firstOutOfOrder = (current, number, Double(latestSeen &- time) / 1_000_000) }
        }
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
