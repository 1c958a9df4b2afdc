@testable import DetectionEngine
import SecurityModel
import Testing

/// Baseline rules (`bl_*.yml`): loading and its errors, and the regularity type's boundaries,
/// episodes, explanations and bounds.
@Suite("Baseline rules")
struct BaselineTests {
    /// A detection on `action: API_REQUEST` and a regularity baseline over it, per address.
    static func rules(repetitions: Int = 5, variation: String = "0.1", minInterval: String = "2s", timespan: String = "1m",
                      extra: String = "") throws -> RuleSet {
        let result = RuleLoader.load([
            RuleSource(path: "base.yml", text: """
                title: API request
                name: api
                detection: {sel: {action: API_REQUEST}, condition: sel}
                level: low
                """),
            RuleSource(path: "bl_regular.yml", text: """
                title: Regular calls
                name: B-1
                baseline:
                    type: regularity
                    rules: [api]
                    group-by: [ip_address]
                    timespan: \(timespan)
                    repetitions: \(repetitions)
                    max-variation: \(variation)
                    min-interval: \(minInterval)
                \(extra)
                level: medium
                """),
        ])
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result.ruleSet
    }

    /// API requests from `ip` at the given times (seconds).
    static func calls(_ rules: RuleSet, _ times: [Double], ip: String = "10.0.0.1", firstLine: Int64 = 1) -> [EventRecord] {
        times.enumerated().map { index, time in
            Fixture.event(rules, at: time, line: firstLine + Int64(index), ["action": s("API_REQUEST"), "ip_address": s(ip)])
        }
    }

    /// Gaps accumulated into times from 100 s.
    static func times(_ gaps: [Double]) -> [Double] {
        var time = 100.0
        return [time] + gaps.map { time += $0; return time }
    }

    @Test("exactly the repetitions needed fire once, one fewer does not; the watched rule raises nothing of its own")
    func repetitions() throws {
        let rules = try Self.rules()
        let five = Fixture.alerts(rules, Self.calls(rules, Self.times([10, 10, 10, 10])))
        #expect(five.count == 1)
        #expect(five.first?.rule.label == "B-1")
        #expect(five.first?.group == [Alert.GroupValue(field: "ip_address", value: "10.0.0.1")])
        #expect(five.first?.firstTime == Timestamp(microseconds: 100_000_000))
        #expect(five.first?.eventCount == 5)
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([10, 10, 10]))).isEmpty)
    }

    @Test("variation exactly at the limit holds; just above does not")
    func variationBoundary() throws {
        let rules = try Self.rules()
        // Gaps 9 and 11 s: mean 10 s, standard deviation 1 s, variation exactly 0.1.
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([9, 11, 9, 11]))).count == 1)
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([8.9, 11.1, 8.9, 11.1]))).isEmpty)
    }

    @Test("a gap exactly at the shortest or longest interval counts; one beyond starts the count again")
    func intervalBoundaries() throws {
        let rules = try Self.rules(variation: "0.5")
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([2, 2, 2, 2]))).count == 1)
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([60, 60, 60, 60]))).count == 1)
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([1.999, 2, 2, 2]))).isEmpty)
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([60, 60.001, 60, 60]))).isEmpty)
        // After a break, five more regular calls fire.
        #expect(Fixture.alerts(rules, Self.calls(rules, Self.times([10, 70, 10, 10, 10, 10]))).count == 1)
    }

    @Test("one alert per regular stretch: it grows while regular, closes on an irregular gap, and a new stretch is a new alert")
    func episodes() throws {
        let rules = try Self.rules()
        let alerts = Fixture.alerts(rules, Self.calls(rules, Self.times([10, 10, 10, 10, 10, 10, 30, 10, 10, 10, 10, 10])))
        #expect(alerts.count == 2, "\(alerts)")
        #expect(alerts.first?.eventCount == 7)
        #expect(alerts.first?.lastTime == Timestamp(microseconds: 160_000_000))
        // The 30 s gap breaks regularity until the last four gaps are regular again: the second
        // stretch starts at the call after the long gap (190 s) and opens at 230 s.
        #expect(alerts.last?.firstTime == Timestamp(microseconds: 190_000_000), "\(alerts.last.map { "\($0.firstTime)" } ?? "-")")
        #expect(alerts.last?.eventCount == 6)
    }

    @Test("groups are separate, and the explanation gives the numbers")
    func groupsAndExplanation() throws {
        let rules = try Self.rules()
        let a = Self.calls(rules, Self.times([15, 15, 15, 15]), ip: "10.0.0.1")
        let b = Self.calls(rules, Self.times([12, 40, 12, 35]).map { $0 + 1 }, ip: "10.0.0.2", firstLine: 100)
        let alerts = Fixture.alerts(rules, (a + b).sorted { $0.timestamp.microseconds < $1.timestamp.microseconds })
        #expect(alerts.count == 1)
        #expect(alerts.first?.group.first?.value == "10.0.0.1")
        let explanation = try #require(alerts.first?.explanation)
        #expect(explanation == "5 occurrences at regular intervals since \(Timestamp(microseconds: 100_000_000).iso8601)Z; the last 5: mean gap 15.00 s, standard deviation 0.00 s, variation 0.0 % (at most 10.0 % counts as machine-regular)")
    }

    @Test("a flood of distinct groups is bounded: the least recent are evicted and counted; idle groups are forgotten")
    func bounds() throws {
        let rules = try Self.rules()
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0, limits: .init(maxGroupsPerCorrelation: 100))
        for index in 0..<1_000 {
            engine.process(Fixture.event(rules, at: Double(index) * 0.01, line: Int64(index + 1),
                                         ["action": s("API_REQUEST"), "ip_address": s("10.1.\(index / 256).\(index % 256)")]))
        }
        #expect(engine.statistics.evictedGroups == 900)
        #expect(engine.evictionsByBaseline == [900])
        engine.advance(to: Timestamp(microseconds: 10_000_000))
        #expect(engine.statistics.liveGroups == 100)
        // Past the 1-minute timespan, the sweep forgets them all.
        engine.advance(to: Timestamp(microseconds: 200_000_000))
        #expect(engine.statistics.liveGroups == 0)
    }

    @Test("impossible parameters, misplaced baselines and bad references are load errors naming the problem", arguments: [
        ("repetitions: 2", "from 3 to 1000", "bl_x.yml", RuleLoadError.Code.baseline),
        ("repetitions: 0", "from 3 to 1000", "bl_x.yml", .baseline),
        ("max-variation: 0", "between 0 and 1", "bl_x.yml", .baseline),
        ("max-variation: 1.5", "between 0 and 1", "bl_x.yml", .baseline),
        ("min-interval: 1m", "must be shorter than 'timespan'", "bl_x.yml", .baseline),
        ("type: seasonal", "unknown baseline type 'seasonal'", "bl_x.yml", .baseline),
        ("rules: [nowhere]", "watches unknown rule 'nowhere'", "bl_x.yml", .reference),
        ("color: red", "unknown baseline attribute 'color'", "bl_x.yml", .baseline),
        ("repetitions: 5", "files named bl_*.yml", "regular.yml", .baseline),
    ])
    func badBaselines(_ change: String, _ message: String, _ file: String, _ code: RuleLoadError.Code) {
        var settings = ["type": "regularity", "rules": "[api]", "group-by": "[ip_address]", "timespan": "1m", "repetitions": "5",
                        "max-variation": "0.1", "min-interval": "2s"]
        let parts = change.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        settings[parts[0]] = parts[1]
        let body = settings.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }.joined(separator: "\n")
        let result = RuleLoader.load([
            RuleSource(path: "base.yml", text: "title: API request\nname: api\ndetection: {sel: {action: API_REQUEST}, condition: sel}\nlevel: low\n"),
            RuleSource(path: file, text: "title: Regular calls\nname: B-1\nbaseline:\n\(body)\nlevel: medium\n"),
        ])
        #expect(result.errors.count == 1, "\(result.errors)")
        #expect(result.errors.first?.message.contains(message) == true, "\(result.errors)")
        #expect(result.errors.first?.code == code, "\(result.errors)")
        #expect(result.errors.first?.file == file)
        #expect(result.ruleSet.baselines.isEmpty)
    }
}
