@testable import DetectionEngine
import SecurityModel
import Testing

/// `event_count` against a plain model of its meaning, over random bursts and gaps: the engine
/// keeps each window's size and first time in the group, and its newest events inline, spilling
/// to deques past them (so that an observation that expires nothing reads no deque), and all of it
/// must stay true through expiry, floods past the evidence cap (entries spill to the `older`
/// deque) and windows that empty.
@Suite("event_count against a model")
struct CountWindowModelTests {
    /// One alert as the model and the engine describe it.
    struct Summary: Hashable, CustomStringConvertible {
        let key: String
        let first: Int64
        let last: Int64
        let events: Int
        /// The lines of the alert's evidence, in order.
        let lines: [Int64]
        var description: String { "\(key) \(first)...\(last) \(events) lines \(lines.first ?? 0)...\(lines.last ?? 0) (\(lines.count))" }
    }

    /// The meaning of `event_count` with `gt: threshold` over a sliding, inclusive window of
    /// `span` microseconds, one alert per episode: an alert opens when the condition starts holding
    /// (with the window's events), takes in each event while it keeps holding, and closes when it
    /// stops holding or the key was quiet for longer than the window. Its evidence is the newest
    /// events of the window it opened with, then the events that extended it, up to
    /// ``Alert/maxReferences``. Events are numbered by line from 1, in input order.
    static func model(_ events: [(time: Int64, key: String)], span: Int64, threshold: Int) -> [Summary] {
        var windows: [String: [(time: Int64, line: Int64)]] = [:]
        var open: [String: (first: Int64, last: Int64, events: Int, lines: [Int64])] = [:]
        var lastSeen: [String: Int64] = [:]
        var done: [Summary] = []
        func close(_ key: String) {
            if let alert = open.removeValue(forKey: key) {
                done.append(Summary(key: key, first: alert.first, last: alert.last, events: alert.events, lines: alert.lines))
            }
        }
        for (index, (time, key)) in events.enumerated() {
            if let last = lastSeen[key], last < time - span { close(key) }
            lastSeen[key] = time
            var window = windows[key, default: []].filter { $0.time >= time - span }
            window.append((time, Int64(index + 1)))
            windows[key] = window
            if window.count > threshold {
                if var alert = open[key] {
                    alert.last = time
                    alert.events += 1
                    if alert.lines.count < Alert.maxReferences { alert.lines.append(Int64(index + 1)) }
                    open[key] = alert
                } else {
                    open[key] = (window[0].time, time, window.count, window.suffix(Alert.maxReferences).map(\.line))
                }
            } else {
                close(key)
            }
        }
        for key in open.keys.sorted() { close(key) }
        return done
    }

    @Test("the engine's alerts equal the model's, through floods past the evidence cap and emptied windows",
          arguments: [(1, 6), (3, 1), (3, 2), (120, 3), (120, 4), (250, 5)])
    func matchesModel(threshold: Int, seed: UInt64) throws {
        let rules = try CorrelationTests.correlation("""
              type: event_count
              rules: [failure]
              group-by: [ip]
              timespan: 1m
              condition: {gt: \(threshold)}
            """)
        var random = SplitMix(seed: seed)
        // Floods (50-400 events 5-150 ms apart: past the cap of 100 kept references), trickles
        // (5-30 events 1-20 s apart: windows that drain partly) and pauses that empty them; the
        // events of three keys mostly one at a time, sometimes interleaved.
        let keys = ["10.0.0.1", "10.0.0.2", "192.0.2.77"]
        var events: [(time: Int64, key: String)] = []
        var time: Int64 = 1_000_000_000
        while events.count < 8_000 {
            let main = keys[Int(random.next() % 3)]
            let (count, gap, jitter): (UInt64, Int64, UInt64)
            switch random.next() % 10 {
            case 0..<5: (count, gap, jitter) = (50 + random.next() % 350, 5_000, 145_000)
            case 5..<8: (count, gap, jitter) = (5 + random.next() % 25, 1_000_000, 19_000_000)
            default: (count, gap, jitter) = (1, 60_000_000, 120_000_000)
            }
            for _ in 0..<count {
                time += gap + Int64(random.next() % jitter)
                events.append((time, random.next() % 10 < 8 ? main : keys[Int(random.next() % 3)]))
            }
        }
        let records = events.enumerated().map { index, event in
            CorrelationTests.event(rules, Double(event.time) / 1_000_000, "LOGIN_FAILURE", ip: event.key, line: Int64(index + 1))
        }
        let engine = Fixture.alerts(rules, records).map { alert in
            Summary(key: (alert.group.first?.value ?? nil) ?? "", first: alert.firstTime.microseconds, last: alert.lastTime.microseconds,
                    events: alert.eventCount, lines: alert.events.map { ref in if case .line(_, let line) = ref { return line }; return -1 })
        }
        let expected = Self.model(events, span: 60_000_000, threshold: threshold)
        #expect(!expected.isEmpty)
        #expect(engine.count == expected.count)
        #expect(Set(engine) == Set(expected),
                "engine only: \(Set(engine).subtracting(expected).sorted { $0.first < $1.first }.prefix(5)), model only: \(Set(expected).subtracting(engine).sorted { $0.first < $1.first }.prefix(5))")
    }
}

extension CountWindowModelTests {
    /// The window of an `event_count` fed by a plain rule (one event per match, held inline) and by
    /// a chained correlation (several events per match, held in the window state): the entries
    /// must stay in time order through the moves between the two, and expire oldest first.
    @Test("single events and chained matches share one window, in time order")
    func mixedWeights() throws {
        let rules = try Fixture.rules(CorrelationTests.base + """

            ---
            title: in and out
            name: in_and_out
            correlation:
                type: temporal_ordered
                rules: [success, logout]
                group-by: [ip]
                timespan: 10s
            ---
            title: busy address
            id: BUSY
            level: high
            correlation:
                type: event_count
                rules: [failure, in_and_out]
                group-by: [ip]
                timespan: 1m
                condition: {gte: 7}
            """)
        // Three failures (inline), a login/logout pair (one entry of two events: the failures
        // move to the window state before it), four failures (inline again, the 7th entry opens
        // the alert), then two more after a minute: the first keeps seven entries in the window
        // (the oldest inline one moves out to make room), the second leaves six and ends the alert.
        let script: [(Double, String)] = [(0, "LOGIN_FAILURE"), (1, "LOGIN_FAILURE"), (2, "LOGIN_FAILURE"), (3, "LOGIN_SUCCESS"),
                                          (4, "LOGOUT"), (5, "LOGIN_FAILURE"), (6, "LOGIN_FAILURE"), (7, "LOGIN_FAILURE"),
                                          (8, "LOGIN_FAILURE"), (61.5, "LOGIN_FAILURE"), (64.5, "LOGIN_FAILURE")]
        let events = script.enumerated().map { index, step in CorrelationTests.event(rules, step.0, step.1, line: Int64(index + 1)) }
        let alerts = Fixture.alerts(rules, events)
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.firstTime == Timestamp(microseconds: 0))
        #expect(alert.lastTime == Timestamp(microseconds: 61_500_000))
        #expect(alert.eventCount == 10)
        #expect(alert.events == (1...10).map { EventRef.line(source: 0, line: Int64($0)) })
    }
}
