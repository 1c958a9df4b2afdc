@testable import DetectionEngine
import SecurityModel
import Testing

@Suite("Engine limits")
struct EngineLimitsTests {
    static let rules = """
        title: Failure
        name: failure
        logsource: {product: test}
        detection:
          selection: {action: FAIL}
          condition: selection
        level: low
        ---
        title: Many failures
        id: C-1
        correlation:
          type: event_count
          rules: [failure]
          group-by: [ip]
          timespan: 60s
          condition: {gte: 3}
        level: high
        """

    static func failure(_ rules: RuleSet, ip: String, at seconds: Double, line: Int64) -> EventRecord {
        Fixture.event(rules, at: seconds, line: line, source: LogSource(product: "test"), ["action": s("FAIL"), "ip": s(ip)])
    }

    @Test("past the cap of groups a new key evicts the least recently active group, closes its alert, and is counted")
    func evicts() throws {
        let rules = try Fixture.rules(Self.rules)
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0, limits: .init(maxGroupsPerCorrelation: 3))
        var closed: [Alert] = []
        var line: Int64 = 0
        func feed(_ ip: String, _ at: Double) {
            line += 1
            engine.process(Self.failure(rules, ip: ip, at: at, line: line))
            for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) }
        }
        for t in 0..<3 { feed("10.0.0.1", Double(t)) }   // an open alert for .1
        feed("10.0.0.2", 3)
        feed("10.0.0.3", 4)
        #expect(engine.statistics.evictedGroups == 0)
        #expect(closed.isEmpty)
        feed("10.0.0.4", 5)                            // the table is full: .1 (least recent) goes
        #expect(engine.statistics.evictedGroups == 1)
        #expect(engine.evictionsByCorrelation == [1])
        #expect(closed.map(\.groupDescription) == ["ip=10.0.0.1"])
        #expect(closed.first?.eventCount == 3)
        // .1 comes back with an empty window (evicting .2): two more events do not reach three.
        feed("10.0.0.1", 6)
        feed("10.0.0.1", 7)
        #expect(engine.statistics.evictedGroups == 2)
        #expect(engine.openAlerts.isEmpty)
        feed("10.0.0.1", 8)
        #expect(engine.openAlerts.map(\.groupDescription) == ["ip=10.0.0.1"])
        // Keys already present never evict.
        for t in 9..<20 { feed("10.0.0.4", Double(t)) }
        #expect(engine.statistics.evictedGroups == 2)
    }

    @Test("a flood of distinct keys keeps the group count at the cap")
    func bounded() throws {
        let rules = try Fixture.rules(Self.rules)
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0, limits: .init(maxGroupsPerCorrelation: 1000))
        for i in 0..<20_000 {
            engine.process(Self.failure(rules, ip: "key-\(i)", at: Double(i) / 1000, line: Int64(i)))
            _ = engine.drainUpdates()
        }
        engine.advance(to: Timestamp(microseconds: 20_000_000))
        #expect(engine.statistics.liveGroups <= 1000)
        #expect(engine.statistics.evictedGroups == 19_000)
    }
}
