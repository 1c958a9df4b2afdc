import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization
import Testing

/// The same events through `secmon analyze` (batch, over the file) and through the live pipeline
/// (intake, detection stage, alert bus) give the same alerts.
@Suite("Live and batch agree", .timeLimit(.minutes(10)))
struct LiveBatchParityTests {
    final class Collector: EventSink, Sendable {
        let name = "collector"
        let alerts = Mutex<[String: SecurityAlert]>([:])
        func write(_ batch: [SecurityAlert]) async throws {
            alerts.withLock { for alert in batch { $0[alert.id] = alert } }
        }
    }

    struct Key: Hashable, CustomStringConvertible {
        let rule: String, group: String, first: Timestamp, last: Timestamp, count: Int, evidence: [String]
        var description: String { "\(rule) \(group) \(first)..\(last) \(count) \(evidence.prefix(3))" }
    }

    /// The generated log's lines as pipeline events (id `L<line>`), in time order (the file is out
    /// of order by milliseconds here and there; the batch engine reorders within its lateness).
    static func events() throws -> [SecurityEvent] {
        var events: [SecurityEvent] = []
        var number: Int64 = 0
        let reader = try LineReader(path: Paths.generated)
        try reader.forEach { item in
            guard case .line(let bytes) = item else { return }
            number += 1
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return }
            var fields: [SecurityEvent.Field] = []
            for key in object.keys.sorted() where key != "timestamp" {
                switch object[key] {
                case let text as String: fields.append(.init(key, .string(text)))
                case is NSNull: fields.append(.init(key, .null))
                default: break
                }
            }
            let time = Timestamp(iso8601: object["timestamp"] as! String)!
            events.append(SecurityEvent(time: time, id: "L\(number)", source: .activity, fields: fields))
        }
        // A stable sort by time: what the batch engine's reorder buffer does.
        return events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }

    @Test("the generated log gives identical alerts in batch and through the live pipeline")
    func parity() async throws {
        try await Self.compare(rules: Pack.rules, atLeast: 150)
    }

    @Test("baseline rules too: regularity (D-17), a first_seen and a rate rule give identical alerts in batch and live")
    func baselineParity() async throws {
        let read = RuleDirectory.read(Paths.rules)
        let extra = RuleSource(path: "bl_new_action.yml", text: """
            title: An address doing something it never did
            name: NEW-ACTION
            baseline:
                type: first_seen
                rules: [secmon_login_success, secmon_page_visit, secmon_api_request, secmon_logout]
                group-by: [ip_address]
                field: action
                learning: 3m
                timespan: 1m
            level: low
            """)
        let rate = RuleSource(path: "bl_rate.yml", text: """
            title: Page visits above the address's own
            name: PAGE-RATE
            baseline:
                type: rate
                rules: [secmon_page_visit]
                group-by: [ip_address]
                timespan: 1m
                history: 10
                min-history: 3
                deviations: 3
                min-count: 4
            level: low
            """)
        let loaded = RuleLoader.load(read.sources + [extra, rate])
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        let batch = try analyze([Paths.generated], rules: loaded.ruleSet)
        let labels = Set(batch.alerts.map(\.rule.label))
        #expect(labels.contains("D-17") && labels.contains("NEW-ACTION") && labels.contains("PAGE-RATE"), "\(labels)")
        try await Self.compare(rules: loaded.ruleSet, atLeast: 150)
    }

    /// Runs the generated log through `analyze` and through the live pipeline with `rules`, and
    /// requires the same alerts (at least `atLeast` of them).
    static func compare(rules: RuleSet, atLeast: Int) async throws {
        let batch = try analyze([Paths.generated], rules: rules)
        let expected = Set(batch.alerts.map { alert in
            Key(rule: alert.rule.label, group: alert.groupDescription, first: alert.firstTime, last: alert.lastTime,
                count: alert.eventCount, evidence: alert.events.map { ref -> String in
                    if case .line(_, let line) = ref { return "L\(line)" }
                    return ref.description
                })
        })
        #expect(expected.count > atLeast)

        let intake = EventIntake(budgetBytes: 1 << 30)
        let collector = Collector()
        let bus = AlertBus(sinks: [collector], logger: Logger(label: "test"))
        let stage = DetectionStage(rules: rules, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "n", logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [bus, stage], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        for event in try Self.events() { #expect(intake.submit(event)) }
        await group.triggerGracefulShutdown()
        try await running.value

        let live = collector.alerts.withLock { Array($0.values) }
        #expect(live.allSatisfy { $0.status == .closed })
        let got = Set(live.map { Key(rule: $0.rule, group: $0.groupDescription, first: $0.firstTime, last: $0.lastTime,
                                     count: $0.eventCount, evidence: $0.evidence) })
        #expect(live.count == batch.alerts.count)
        #expect(got.subtracting(expected).isEmpty, "live only: \(got.subtracting(expected).prefix(5))")
        #expect(expected.subtracting(got).isEmpty, "batch only: \(expected.subtracting(got).prefix(5))")
        #expect(stage.statistics.engine.late == 0)
        #expect(intake.statistics.dropped == 0)
    }
}
