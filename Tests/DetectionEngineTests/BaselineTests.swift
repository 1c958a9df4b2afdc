@testable import DetectionEngine
import Foundation
import SecurityModel
import Testing

/// Baseline rules (`bl_*.yml`): loading and its errors, and the regularity type's boundaries,
/// episodes, explanations and bounds.
@Suite("Baseline rules")
struct BaselineTests {
    /// A detection named `name` on `action`, and the baseline document `baseline` (a `bl_` file).
    static func load(action: String, name: String, baseline: String) -> RuleSet {
        let result = RuleLoader.load([
            RuleSource(path: "base.yml", text: "title: \(action)\nname: \(name)\ndetection: {sel: {action: \(action)}, condition: sel}\nlevel: low\n"),
            RuleSource(path: "bl_rule.yml", text: baseline),
        ])
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result.ruleSet
    }

    /// A detection on `action: API_REQUEST` and a regularity baseline over it, per address.
    static func rules(repetitions: Int = 5, variation: String = "0.1", minInterval: String = "2s", timespan: String = "1m") throws -> RuleSet {
        load(action: "API_REQUEST", name: "api", baseline: """
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
            level: medium
            """)
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

    /// A login detection and a first_seen baseline of addresses per user.
    static func firstSeenRules(learning: String = "1d", timespan: String = "1h") throws -> RuleSet {
        load(action: "LOGIN_SUCCESS", name: "login", baseline: """
            title: Login from a new address
            name: B-2
            baseline:
                type: first_seen
                rules: [login]
                group-by: [username]
                field: ip_address
                learning: \(learning)
                timespan: \(timespan)
            level: low
            """)
    }

    static func login(_ rules: RuleSet, hours: Double, user: String = "alice", ip: String, line: Int64) -> EventRecord {
        Fixture.event(rules, at: hours * 3600, line: line, ["action": s("LOGIN_SUCCESS"), "username": s(user), "ip_address": s(ip)])
    }

    @Test("first_seen: nothing while learning; then a new value alerts once per window; a known one never; a value unseen for the learning period is new again")
    func firstSeen() throws {
        let rules = try Self.firstSeenRules()
        var events = [
            Self.login(rules, hours: 0, ip: "10.0.0.1", line: 1),
            Self.login(rules, hours: 2, ip: "10.0.0.2", line: 2),     // new, but alice is still being learned
            Self.login(rules, hours: 23.9, ip: "10.0.0.1", line: 3),
            Self.login(rules, hours: 24.5, ip: "10.0.0.1", line: 4),  // known
            Self.login(rules, hours: 25, ip: "203.0.113.9", line: 5), // new: alert
            Self.login(rules, hours: 25.5, ip: "198.51.100.4", line: 6), // new within the hour: the same alert grows
            Self.login(rules, hours: 27, ip: "192.0.2.8", line: 7),   // new after the window: another alert
            Self.login(rules, hours: 27.1, user: "bob", ip: "10.0.0.1", line: 8), // bob is new: learning
        ]
        // 10.0.0.2 was last seen at 2 h: past 26 h it is new again.
        events.append(Self.login(rules, hours: 29, ip: "10.0.0.2", line: 9))
        let alerts = Fixture.alerts(rules, events)
        #expect(alerts.count == 3, "\(alerts.map { "\($0.firstTime) \($0.explanation ?? "")" })")
        #expect(alerts.map(\.eventCount) == [2, 1, 1])
        #expect(alerts.first?.events == [.line(source: 0, line: 5), .line(source: 0, line: 6)])
        #expect(alerts.first?.group == [Alert.GroupValue(field: "username", value: "alice")])
        let explanation = try #require(alerts.first?.explanation)
        #expect(explanation.hasPrefix("new ip_address 198.51.100.4: not seen in the 1d before; the group, watched since \(Timestamp(microseconds: 0).iso8601)Z, had 3 other values: "), "\(explanation)")
        #expect(alerts.last?.explanation?.hasPrefix("new ip_address 10.0.0.2:") == true)
    }

    @Test("first_seen: a group silent for the whole learning period is learned again, whether or not a sweep removed it")
    func firstSeenSilence() throws {
        let rules = try Self.firstSeenRules()
        let events = [
            Self.login(rules, hours: 0, ip: "10.0.0.1", line: 1),
            Self.login(rules, hours: 30, ip: "10.0.0.2", line: 2),  // silent 30 h (> 1d): learning again, no alert
            Self.login(rules, hours: 40, ip: "10.0.0.3", line: 3),  // watched 10 h since: still learning
            Self.login(rules, hours: 55, ip: "10.0.0.4", line: 4),  // watched 25 h: new
        ]
        let alerts = Fixture.alerts(rules, events)
        #expect(alerts.count == 1)
        #expect(alerts.first?.events == [.line(source: 0, line: 4)])
        #expect(alerts.first?.explanation?.contains("watched since \(Timestamp(microseconds: 30 * 3_600_000_000).iso8601)Z") == true, "\(alerts.first?.explanation ?? "-")")
    }

    @Test("first_seen: a group flooding distinct values keeps the most recent, counting what it forgot")
    func firstSeenFlood() throws {
        let rules = try Self.firstSeenRules()
        var limits = DetectionEngine.Limits(maxGroupsPerCorrelation: 1000)
        limits.maxBaselineValues = 8
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0, limits: limits)
        for index in 0..<100 { engine.process(Self.login(rules, hours: Double(index) / 100, ip: "10.2.0.\(index)", line: Int64(index + 1))) }
        #expect(engine.statistics.forgottenValues == 92)
        #expect(engine.statistics.alerts == 0)
    }

    /// An API-request detection and a rate baseline per address: hourly buckets, 4 of history,
    /// 3 needed, 3 MADs, at least 5 events.
    static func rateRules() throws -> RuleSet {
        load(action: "API_REQUEST", name: "api", baseline: """
            title: API use above its baseline
            name: B-3
            baseline:
                type: rate
                rules: [api]
                group-by: [ip_address]
                timespan: 1h
                history: 4
                min-history: 3
                deviations: 3
                min-count: 5
            level: medium
            """)
    }

    /// `counts[h]` API requests in hour `h`, a minute apart from the hour's start.
    static func hourly(_ rules: RuleSet, _ counts: [Int], ip: String = "10.0.0.1") -> [EventRecord] {
        var events: [EventRecord] = []
        for (hour, count) in counts.enumerated() {
            for index in 0..<count {
                events.append(Fixture.event(rules, at: Double(hour * 3600 + index * 60), line: Int64(events.count + 1),
                                            ["action": s("API_REQUEST"), "ip_address": s(ip)]))
            }
        }
        return events
    }

    @Test("rate: a bucket above median + 3 MAD of the buckets before fires once it crosses, grows, and ends after a normal bucket; with the numbers")
    func rate() throws {
        let rules = try Self.rateRules()
        // Baseline 2, 3, 2, 3: median 2.5, MAD 0.5 (taken as 1): threshold 5.5; the 6th event crosses.
        let alerts = Fixture.alerts(rules, Self.hourly(rules, [2, 3, 2, 3, 10, 4, 1]))
        #expect(alerts.count == 1, "\(alerts)")
        let alert = try #require(alerts.first)
        #expect(alert.eventCount == 10)
        #expect(alert.firstTime == Timestamp(microseconds: 4 * 3_600_000_000))
        #expect(alert.explanation?.hasPrefix("10 events in the 1h from \(Timestamp(microseconds: 4 * 3_600_000_000).iso8601)Z; over the 4 before: median 2.5, median absolute deviation 0.5; threshold 5.5 (median + 3 × 1): 7.5 deviations above the median") == true,
                "\(alert.explanation ?? "-")")
        // Exactly at the threshold does not fire (more than, not as many as): 5 in a bucket of
        // baseline 2, 2, 2, 2 (threshold 5) stays quiet; 6 fires.
        #expect(Fixture.alerts(rules, Self.hourly(rules, [2, 2, 2, 2, 5])).isEmpty)
        #expect(Fixture.alerts(rules, Self.hourly(rules, [2, 2, 2, 2, 6])).count == 1)
    }

    @Test("rate: not before the minimum history, not under the minimum count, and silent hours count as zero")
    func rateBounds() throws {
        let rules = try Self.rateRules()
        #expect(Fixture.alerts(rules, Self.hourly(rules, [2, 2, 40])).isEmpty)        // two buckets of history
        #expect(Fixture.alerts(rules, Self.hourly(rules, [0, 1, 0, 1, 4])).isEmpty)   // over 3.5 but fewer than 5
        #expect(Fixture.alerts(rules, Self.hourly(rules, [1, 0, 0, 0, 5])).count == 1) // silent hours: baseline 0
    }

    @Test("clock jumps: years forward restart a history within its bounds; backward beyond the lateness is late, counted, not observed")
    func clockJumps() throws {
        let rate = try Self.rateRules()
        var engine = DetectionEngine(rules: rate, latenessSeconds: 0)
        for event in Self.hourly(rate, [2, 3, 2, 3]) { engine.process(event) }
        let tenYears = 10 * 365 * 86_400.0
        engine.process(Fixture.event(rate, at: tenYears, line: 100, ["action": s("API_REQUEST"), "ip_address": s("10.0.0.1")]))
        let counts = engine.baselineSnapshot().rules.first?.rate?.first?.counts ?? []
        #expect(counts.count == 4 && counts.allSatisfy { $0 == 0 }, "\(counts)")
        // Backward by a day: later than the lateness window, so counted as late and not observed.
        engine.process(Fixture.event(rate, at: tenYears - 86_400, line: 101, ["action": s("API_REQUEST"), "ip_address": s("10.0.0.1")]))
        #expect(engine.statistics.late == 1)
        engine.finish()
        #expect(engine.statistics.alerts == 0)

        let regular = try Self.rules()
        let jumped = Self.times([10, 10, 365 * 86_400, 10, 10, 10, 10])
        let alerts = Fixture.alerts(regular, Self.calls(regular, jumped))
        #expect(alerts.count == 1)
        #expect(alerts.first?.firstTime == Timestamp(microseconds: Int64((jumped[3] * 1_000_000).rounded())))
    }

    @Test("what baselines learned survives a snapshot (through JSON) into a new engine; a changed rule starts over")
    func snapshots() throws {
        let regular = try Self.rules()
        var first = DetectionEngine(rules: regular, latenessSeconds: 0)
        for event in Self.calls(regular, Self.times([10, 10])) { first.process(event) }
        let saved = try JSONDecoder().decode(BaselineSnapshot.self, from: JSONEncoder().encode(first.baselineSnapshot()))
        #expect(saved.groupCount == 1)
        var second = DetectionEngine(rules: regular, latenessSeconds: 0)
        #expect(second.restoreBaselines(saved) == 1)
        // Two more regular calls make five: the alert fires only because the first three were kept.
        for event in Self.calls(regular, [130, 140], firstLine: 10) { second.process(event) }
        second.finish()
        #expect(second.drainUpdates().contains { if case .opened(let alert) = $0 { return alert.eventCount == 5 }; return false })

        let novel = try Self.firstSeenRules()
        var learning = DetectionEngine(rules: novel, latenessSeconds: 0)
        learning.process(Self.login(novel, hours: 0, ip: "10.0.0.1", line: 1))
        let learned = learning.baselineSnapshot()
        var restored = DetectionEngine(rules: novel, latenessSeconds: 0)
        restored.restoreBaselines(learned)
        restored.process(Self.login(novel, hours: 20, ip: "10.0.0.1", line: 2))   // known from before the restore
        restored.process(Self.login(novel, hours: 30.1, ip: "10.0.0.5", line: 3)) // new for a group watched 30 h
        restored.finish()
        let alerts = restored.drainUpdates().compactMap { if case .opened(let alert) = $0 { return alert }; return nil }
        #expect(alerts.count == 1)
        #expect(alerts.first?.eventCount == 1)

        // A rate baseline's buckets too: four hours learned, then a spike after the restore.
        let rate = try Self.rateRules()
        var counting = DetectionEngine(rules: rate, latenessSeconds: 0)
        let events = Self.hourly(rate, [2, 3, 2, 3, 10])
        for event in events.prefix(10) { counting.process(event) }
        let buckets = try JSONDecoder().decode(BaselineSnapshot.self, from: JSONEncoder().encode(counting.baselineSnapshot()))
        #expect(buckets.rules.first?.rate?.first?.counts == [2, 3, 2])
        var resumed = DetectionEngine(rules: rate, latenessSeconds: 0)
        #expect(resumed.restoreBaselines(buckets) == 1)
        for event in events.dropFirst(10) { resumed.process(event) }
        resumed.finish()
        #expect(resumed.drainUpdates().contains { if case .closed(let alert) = $0 { return alert.eventCount == 10 }; return false })

        // The same label with other content (another learning period) does not take the state.
        let changed = try Self.firstSeenRules(learning: "2d")
        var other = DetectionEngine(rules: changed, latenessSeconds: 0)
        #expect(other.restoreBaselines(learned) == 0)
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
        ("learning: 7d", "'learning' belongs to first_seen, not regularity", "bl_x.yml", .baseline),
        ("type: first_seen", "'repetitions' belongs to regularity, not first_seen", "bl_x.yml", .baseline),
        ("first_seen:learning: 1h", "must be longer than 'timespan'", "bl_x.yml", .baseline),
        ("first_seen:field: username", "also a group-by field", "bl_x.yml", .baseline),
        ("first_seen:learning: soon", "learning 'soon' is not a number", "bl_x.yml", .baseline),
        ("rate:min-history: 9", "cannot be more than 'history'", "bl_x.yml", .baseline),
        ("rate:history: 1", "'history' must be a whole number from 2", "bl_x.yml", .baseline),
        ("rate:deviations: 0", "'deviations' must be a number above 0", "bl_x.yml", .baseline),
    ])
    func badBaselines(_ change: String, _ message: String, _ file: String, _ code: RuleLoadError.Code) {
        var settings = ["type": "regularity", "rules": "[api]", "group-by": "[ip_address]", "timespan": "1m", "repetitions": "5",
                        "max-variation": "0.1", "min-interval": "2s"]
        if change.hasPrefix("first_seen:") {
            settings = ["type": "first_seen", "rules": "[api]", "group-by": "[username]", "timespan": "1h", "field": "ip_address", "learning": "7d"]
        }
        if change.hasPrefix("rate:") {
            settings = ["type": "rate", "rules": "[api]", "group-by": "[username]", "timespan": "1h", "history": "8", "min-history": "4", "deviations": "3"]
        }
        let parts = change.replacingOccurrences(of: "first_seen:", with: "").replacingOccurrences(of: "rate:", with: "").split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
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
