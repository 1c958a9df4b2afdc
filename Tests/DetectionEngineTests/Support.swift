@testable import DetectionEngine
import SecurityModel
import Testing

/// Builds rule sets and events for engine tests.
enum Fixture {
    /// Loads YAML documents (one file) and requires no errors.
    static func rules(_ yaml: String, file: String = "test.yml", sourceLocation: SourceLocation = #_sourceLocation) throws -> RuleSet {
        let result = RuleLoader.load([RuleSource(path: file, text: yaml)])
        #expect(result.errors.isEmpty, "\(result.errors)", sourceLocation: sourceLocation)
        return result.ruleSet
    }

    /// The diagnostics of loading `yaml`.
    static func diagnostics(_ yaml: String, file: String = "bad.yml") -> [RuleDiagnostic] {
        RuleLoader.load([RuleSource(path: file, text: yaml)]).diagnostics
    }

    /// An event with the given fields (only those the rules know get a slot).
    static func event(_ rules: RuleSet, at seconds: Double = 0, line: Int64 = 1, source: LogSource = LogSource(),
                      raw: String = "", _ fields: [String: FieldValue]) -> EventRecord {
        var record = EventRecord(slotCount: rules.fields.count, logSource: source, ref: .line(source: 0, line: line))
        record.timestamp = Timestamp(microseconds: Int64((seconds * 1_000_000).rounded()))
        record.raw = raw
        for (name, value) in fields { if let slot = rules.fields.existingSlot(name) { record[slot] = value } }
        return record
    }

    /// A single detection rule over `detection` (YAML, indented by 4 under `detection:`).
    static func detection(_ detection: String) throws -> RuleSet {
        try rules("""
            title: t
            id: R
            logsource:
                product: test
            detection:
            \(detection)
            level: high
            """)
    }

    /// The same event with its text values held as UTF-8 bytes, as the JSON decoder holds them.
    static func textAsBytes(_ event: EventRecord) -> EventRecord {
        var copy = event
        for slot in 0..<event.slotCount {
            if case .string(let text)? = event[slot] { Array(text.utf8).withUnsafeBufferPointer { copy.setText($0, slot: slot) } }
        }
        return copy
    }

    /// Runs events through an engine and returns the closed alerts in order of opening. The events
    /// also run a second time with their text held as bytes, which must give the same alerts.
    static func alerts(_ rules: RuleSet, _ events: [EventRecord], lateness: Double = 0,
                       sourceLocation: SourceLocation = #_sourceLocation) -> [Alert] {
        let asValues = run(rules, events, lateness: lateness)
        let asBytes = run(rules, events.map(textAsBytes), lateness: lateness)
        #expect(asValues == asBytes, "text held as bytes gave other alerts", sourceLocation: sourceLocation)
        return asValues
    }

    private static func run(_ rules: RuleSet, _ events: [EventRecord], lateness: Double) -> [Alert] {
        var engine = DetectionEngine(rules: rules, latenessSeconds: lateness)
        var closed: [Alert] = []
        for event in events {
            engine.process(event)
            for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) }
        }
        engine.finish()
        for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) }
        return closed.sorted { $0.number < $1.number }
    }
}

/// Shorthand for a string field value.
func s(_ text: String) -> FieldValue { .string(text) }
