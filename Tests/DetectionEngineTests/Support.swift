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

    /// Runs events through an engine and returns the closed alerts in order of opening.
    static func alerts(_ rules: RuleSet, _ events: [EventRecord], lateness: Double = 0) -> [Alert] {
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
