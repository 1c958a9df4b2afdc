import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import LogFormats
import Logging
import SecurityModel
import ServiceLifecycle
import Testing

/// Web rules in the community's style (long keyword lists, `cs-method: GET and keywords`, `'|all'`,
/// `contains` lists) behind the rule screen give the same alerts in batch, over an access log,
/// and through the live pipeline, fed the same lines as events with their raw text.
@Suite("Live and batch agree on web rules", .timeLimit(.minutes(10)))
struct WebParityTests {
    /// Rules the project writes, shaped like SigmaHQ's `rules/web`: three hundred generated
    /// keywords in one list beside the real-looking ones.
    static let communityStyle = """
        title: SQL injection strings
        id: W-1
        logsource: {category: webserver}
        detection:
            method: {cs-method: GET}
            keywords: ['=select ', 'union select', 'UNION%20SELECT', "'1'='1", 'or 1=1#', 'information_schema.tables']
            filter: {sc-status: 404}
            condition: method and keywords and not filter
        level: high
        ---
        title: Script in the query
        id: W-2
        logsource: {category: webserver}
        detection:
            keywords:
                '|all': ['<script', 'alert(']
            condition: keywords
        level: medium
        ---
        title: Scanner agents
        id: W-3
        logsource: {category: webserver}
        detection:
            sel: {cs-user-agent|contains: [sqlmap, Nikto, Nuclei, 'masscan/', gobuster]}
            condition: sel
        level: medium
        ---
        title: Many keywords
        id: W-4
        logsource: {category: webserver}
        detection:
            keywords: [\((0..<300).map { "'/probe-\($0)/'" }.joined(separator: ", "))]
            condition: keywords
        level: low
        ---
        title: Traversal by one client
        id: W-5
        correlation:
            type: event_count
            rules: [W-6]
            group-by: [c-ip]
            timespan: 1m
            condition: {gte: 3}
        level: high
        ---
        title: Traversal
        id: W-6
        logsource: {category: webserver}
        detection:
            sel: {cs-uri-query|contains: ['../', '..%2f', '%2e%2e/']}
            condition: sel
        level: low
        """

    /// A time-ordered access log with normal traffic and attacks that hit every rule.
    static func accessLog(lines count: Int) -> [String] {
        var random = Mix(state: 11)
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        let normal = ["/", "/index.html", "/api/v1/items?page=2", "/search?q=laptop", "/blog/42-notes", "/static/app.js"]
        let attacks = ["/item?id=1%20UNION%20SELECT%20password", "/q?x='1'='1", "/?s=<script>alert(1)</script>", "/../../etc/passwd",
                       "/files?f=..%2f..%2fetc", "/probe-17/", "/PROBE-299/x", "/a?b=%2e%2e/c", "/login?u=admin'or 1=1#"]
        let agents = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "sqlmap/1.8", "Nuclei - Open-source", "gobuster/3.6"]
        var lines: [String] = []
        for index in 0..<count {
            let second = index / 4
            let time = String(format: "20/Nov/2026:%02d:%02d:%02d +0000", second / 3600 % 24, second / 60 % 60, second % 60)
            let ip = "10.0.\(random.next() % 4).\(random.next() % 8)"
            let attack = random.next() % 10 == 0
            let target = attack ? pick(attacks) : pick(normal)
            let method = attack && random.next() % 4 == 0 ? "POST" : "GET"
            let status = random.next() % 6 == 0 ? 404 : 200
            lines.append("\(ip) - - [\(time)] \"\(method) \(target) HTTP/1.1\" \(status) \(random.next() % 5000) \"-\" \"\(attack ? pick(agents) : agents[0])\"")
        }
        return lines
    }

    @Test("the same alerts in batch and live, with the screen; and the screen changes nothing")
    func parity() async throws {
        let loaded = RuleLoader.load([RuleSource(path: "community.yml", text: Self.communityStyle)])
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        let rules = loaded.ruleSet
        let path = Paths.temporary("access.log")
        defer { try? FileManager.default.removeItem(at: path.deletingLastPathComponent()) }
        let lines = Self.accessLog(lines: 8_000)
        try (lines.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)

        let batch = try analyze([path.path], rules: rules)
        #expect(batch.totalRejected == 0)
        #expect(batch.alerts.count > 500, "\(batch.alerts.count) alerts")
        let byRule = Dictionary(grouping: batch.alerts, by: { $0.rule.label })
        for rule in ["W-1", "W-2", "W-3", "W-4", "W-5"] { #expect(byRule[rule] != nil, "no alert from \(rule)") }
        #expect(byRule["W-6"] == nil, "W-6 alerts only through the correlation W-5")
        // Without the screen (a limit of 0 bytes: every rule tested on every event), the same.
        let unscreened = try analyze([path.path], rules: rules, options: .init(
            referenceTime: Timestamp(iso8601: "2026-11-22T12:00:00Z")!,
            limits: .init(maxGroupsPerCorrelation: 200_000, maxScreenBytes: 0)))
        #expect(unscreened.alerts.map(AlertKey.init) == batch.alerts.map(AlertKey.init))
        #expect(unscreened.engine.unscreenedRules > 0 && batch.engine.unscreenedRules == 0)

        // Live: the lines as pipeline events (fields as the access decoder reads them, and the raw line).
        var fields = FieldTable()
        for name in AccessLogDecoder.fieldNames { _ = fields.slot(for: name) }
        let decoder = AccessLogDecoder(fields: fields)
        var record = EventRecord(slotCount: fields.count, logSource: .webserver)
        let intake = EventIntake(budgetBytes: 1 << 30)
        let collector = LiveBatchParityTests.Collector()
        let bus = AlertBus(sinks: [collector], logger: Logger(label: "test"))
        let stage = DetectionStage(rules: rules, intake: intake, bus: bus, latenessSeconds: 0, tickSeconds: 3600,
                                   node: "n", logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [bus, stage], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        for (number, line) in lines.enumerated() {
            record.reset()
            try Array(line.utf8).withUnsafeBufferPointer { try decoder.decode($0, into: &record) }
            let values = AccessLogDecoder.fieldNames.compactMap { name in record[fields.existingSlot(name)!].map { SecurityEvent.Field(name, $0) } }
            #expect(intake.submit(SecurityEvent(time: record.timestamp, id: "L\(number + 1)", source: .webserver, fields: values, raw: line)))
        }
        await group.triggerGracefulShutdown()
        try await running.value

        let live = collector.alerts.withLock { Array($0.values) }
        let got = Set(live.map { "\($0.rule) \($0.groupDescription) \($0.firstTime) \($0.lastTime) \($0.eventCount) \($0.evidence.prefix(5))" })
        let expected = Set(batch.alerts.map { alert in
            "\(alert.rule.label) \(alert.groupDescription) \(alert.firstTime) \(alert.lastTime) \(alert.eventCount) "
                + "\(alert.events.prefix(5).map { ref -> String in if case .line(_, let line) = ref { return "L\(line)" }; return ref.description })"
        })
        #expect(live.count == batch.alerts.count)
        #expect(got.subtracting(expected).isEmpty, "live only: \(got.subtracting(expected).prefix(3))")
        #expect(expected.subtracting(got).isEmpty, "batch only: \(expected.subtracting(got).prefix(3))")
    }
}

/// A small deterministic generator (SplitMix64).
private struct Mix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
