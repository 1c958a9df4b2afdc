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

    @Test("a window over its cap of entries drops its oldest early, counted: the condition sees at most the cap")
    func windowCap() throws {
        let rules = try Fixture.rules(Self.rules.replacingOccurrences(of: "gte: 3", with: "gte: 5"))
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0,
                                     limits: .init(maxGroupsPerCorrelation: 10, maxWindowEntries: 4))
        for i in 0..<10 {
            engine.process(Self.failure(rules, ip: "10.0.0.1", at: Double(i), line: Int64(i)))
        }
        #expect(engine.openAlerts.isEmpty)
        #expect(engine.statistics.trimmedEntries == 6)
        // Within the cap the rule works as before.
        var open = DetectionEngine(rules: try Fixture.rules(Self.rules), latenessSeconds: 0,
                                   limits: .init(maxGroupsPerCorrelation: 10, maxWindowEntries: 4))
        for i in 0..<10 {
            open.process(Self.failure(rules, ip: "10.0.0.2", at: Double(i), line: Int64(i)))
        }
        #expect(open.openAlerts.first?.eventCount == 10)
        #expect(open.statistics.trimmedEntries == 6)
    }

    @Test("a value_count window over its cap forgets its oldest values", arguments: [3, 100])
    func distinctCap(_ cap: Int) throws {
        let rules = try Fixture.rules("""
            title: Failure
            name: failure
            logsource: {product: test}
            detection:
              selection: {action: FAIL}
              condition: selection
            level: low
            ---
            title: Spraying
            id: V-1
            correlation:
              type: value_count
              rules: [failure]
              group-by: [ip]
              timespan: 60s
              condition: {gte: 5, field: user}
            level: high
            """)
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0, limits: .init(maxGroupsPerCorrelation: 10, maxWindowEntries: cap))
        for i in 0..<6 {
            engine.process(Fixture.event(rules, at: Double(i), line: Int64(i), source: LogSource(product: "test"),
                                         ["action": s("FAIL"), "ip": s("10.0.0.3"), "user": s("user\(i)")]))
        }
        #expect(engine.openAlerts.isEmpty == (cap < 5))
        #expect(engine.statistics.trimmedEntries == max(0, 6 - cap))
    }

    @Test("overlong values are cut to the byte cap at a character boundary, counted, and group together")
    func valueCap() throws {
        let rules = try Fixture.rules(Self.rules)
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0, limits: .init(maxGroupsPerCorrelation: 10, maxValueBytes: 16))
        // 15 ASCII bytes then two-byte characters: the cut must not split one.
        let prefix = String(repeating: "a", count: 15) + String(repeating: "é", count: 20)
        for (i, tail) in ["x", "y", "z"].enumerated() {
            engine.process(Self.failure(rules, ip: prefix + tail, at: Double(i), line: Int64(i)))
        }
        let alert = try #require(engine.openAlerts.first)
        #expect(alert.eventCount == 3)
        let value = try #require(alert.group.first?.value)
        #expect(value == String(repeating: "a", count: 15))
        #expect(value.utf8.count <= 16)
        engine.finish()
        #expect(engine.statistics.truncatedValues == 3)
    }
}
