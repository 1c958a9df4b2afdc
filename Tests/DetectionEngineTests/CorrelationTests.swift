@testable import DetectionEngine
import SecurityModel
import Testing

/// The seven correlation types at their boundaries, episodes, chaining, lateness and eviction.
@Suite("Sigma correlations")
struct CorrelationTests {
    static let base = """
        title: failure
        name: failure
        detection: {sel: {action: LOGIN_FAILURE}, condition: sel}
        level: low
        ---
        title: success
        name: success
        detection: {sel: {action: LOGIN_SUCCESS}, condition: sel}
        level: low
        ---
        title: logout
        name: logout
        detection: {sel: {action: LOGOUT}, condition: sel}
        level: low
        ---
        title: transfer
        name: transfer
        detection: {sel: {action: TRANSFER}, condition: sel}
        level: low
        """

    static func correlation(_ body: String) throws -> RuleSet {
        try Fixture.rules(base + "\n---\ntitle: corr\nid: C\nlevel: high\ncorrelation:\n" + body)
    }

    static func event(_ rules: RuleSet, _ seconds: Double, _ action: String, ip: String = "10.0.0.1", user: String = "alice",
                      amount: FieldValue? = nil, line: Int64 = 0) -> EventRecord {
        var fields: [String: FieldValue] = ["action": s(action), "ip": s(ip), "user": s(user)]
        if let amount { fields["amount"] = amount }
        return Fixture.event(rules, at: seconds, line: line, fields)
    }

    static let bruteForce = """
          type: event_count
          rules: [failure]
          group-by: [ip]
          timespan: 5m
          condition: {gt: 3}
        """

    @Test("event_count: 3 failures do not fire, the 4th does")
    func threeVersusFour() throws {
        let rules = try Self.correlation(Self.bruteForce)
        let three = (0..<3).map { Self.event(rules, Double($0) * 10, "LOGIN_FAILURE") }
        #expect(Fixture.alerts(rules, three).isEmpty)
        let four = (0..<4).map { Self.event(rules, Double($0) * 10, "LOGIN_FAILURE", line: Int64($0 + 1)) }
        let alerts = Fixture.alerts(rules, four)
        #expect(alerts.count == 1)
        #expect(alerts.first?.eventCount == 4)
        #expect(alerts.first?.events == (1...4).map { EventRef.line(source: 0, line: Int64($0)) })
        #expect(alerts.first?.group == [Alert.GroupValue(field: "ip", value: "10.0.0.1")])
        #expect(alerts.first?.firstTime == Timestamp(microseconds: 0))
        #expect(alerts.first?.lastTime == Timestamp(microseconds: 30_000_000))
    }

    @Test("the window is inclusive: an event exactly one timespan later still counts, a microsecond more does not")
    func windowEdge() throws {
        let rules = try Self.correlation(Self.bruteForce)
        let inside = [0, 100, 200, 300].map { Self.event(rules, $0, "LOGIN_FAILURE") }
        #expect(Fixture.alerts(rules, inside).count == 1)
        let outside = [0, 100, 200, 300.000001].map { Self.event(rules, $0, "LOGIN_FAILURE") }
        #expect(Fixture.alerts(rules, outside).isEmpty)
    }

    @Test("windows slide: 4 failures across a clock-minute boundary fire")
    func sliding() throws {
        let rules = try Self.correlation(Self.bruteForce)
        let events = [290, 299, 301, 310].map { Self.event(rules, $0, "LOGIN_FAILURE") }
        #expect(Fixture.alerts(rules, events).count == 1)
    }

    @Test("a long brute force is one alert; a new one starts only after the condition stopped holding")
    func episodes() throws {
        let rules = try Self.correlation(Self.bruteForce)
        var events = (0..<300).map { Self.event(rules, Double($0) * 2, "LOGIN_FAILURE") }   // 10 minutes
        var alerts = Fixture.alerts(rules, events)
        #expect(alerts.count == 1)
        #expect(alerts.first?.eventCount == 300)
        #expect(alerts.first?.holdCount == 297)
        // A pause longer than the window, then a new burst: a second alert.
        events += (0..<4).map { Self.event(rules, 2000 + Double($0), "LOGIN_FAILURE") }
        alerts = Fixture.alerts(rules, events)
        #expect(alerts.count == 2)
        // A pause in which the count drops, then a burst within the same window: re-armed.
        let rearm = [0, 1, 2, 3, 302.5, 303, 304, 305].map { Self.event(rules, $0, "LOGIN_FAILURE") }
        #expect(Fixture.alerts(rules, rearm).count == 2)
    }

    @Test("two groups interleaved are counted apart")
    func interleaved() throws {
        let rules = try Self.correlation(Self.bruteForce)
        var events: [EventRecord] = []
        for i in 0..<4 {
            events.append(Self.event(rules, Double(i), "LOGIN_FAILURE", ip: "10.0.0.1"))
            if i < 3 { events.append(Self.event(rules, Double(i) + 0.5, "LOGIN_FAILURE", ip: "10.0.0.2")) }
        }
        let alerts = Fixture.alerts(rules, events)
        #expect(alerts.map(\.groupDescription) == ["ip=10.0.0.1"])
    }

    @Test("events up to the lateness out of order are reordered; later ones are counted as late")
    func outOfOrder() throws {
        let rules = try Self.correlation(Self.bruteForce)
        // Arrival order 0, 2, 1, 3 (seconds): within a 5 s lateness, same as in order.
        let shuffled = [0, 2, 1, 3].map { Self.event(rules, $0, "LOGIN_FAILURE") }
        #expect(Fixture.alerts(rules, shuffled, lateness: 5).count == 1)
        // An event 100 s late (beyond the 5 s lateness) is counted as late and not correlated:
        // with it, 4 failures would lie within 5 minutes.
        var engine = DetectionEngine(rules: rules, latenessSeconds: 5)
        for t in [100.0, 101, 200, 1] { engine.process(Self.event(rules, t, "LOGIN_FAILURE")) }
        engine.finish()
        #expect(engine.statistics.late == 1)
        #expect(engine.statistics.lateEvents.count == 1)
        #expect(engine.drainUpdates().isEmpty)
    }

    @Test("value_count counts distinct values, not events")
    func valueCount() throws {
        let rules = try Self.correlation("""
              type: value_count
              rules: [failure]
              group-by: [ip]
              timespan: 10m
              condition: {field: user, gte: 3}
            """)
        let same = (0..<10).map { Self.event(rules, Double($0), "LOGIN_FAILURE", user: "bob") }
        #expect(Fixture.alerts(rules, same).isEmpty)
        // A window larger than the evidence kept per alert still counts every event.
        let many = (0..<150).map { Self.event(rules, Double($0), "LOGIN_FAILURE", user: $0 < 148 ? "a" : "u\($0)") }
        let big = Fixture.alerts(rules, many)
        #expect(big.count == 1)
        #expect(big.first?.eventCount == 150)
        #expect(big.first?.events.count == Alert.maxReferences)
        let spray = ["a", "b", "a", "c"].enumerated().map { Self.event(rules, Double($0.offset), "LOGIN_FAILURE", user: $0.element) }
        let alerts = Fixture.alerts(rules, spray)
        #expect(alerts.count == 1)
        #expect(alerts.first?.eventCount == 4)
        // Distinct values leave the window with their events.
        let slow = ["a", "b", "c"].enumerated().map { Self.event(rules, Double($0.offset) * 400, "LOGIN_FAILURE", user: $0.element) }
        #expect(Fixture.alerts(rules, slow).isEmpty)
    }

    @Test("temporal: all rules within the timespan, in any order")
    func temporal() throws {
        let rules = try Self.correlation("""
              type: temporal
              rules: [failure, success]
              group-by: [user]
              timespan: 1m
            """)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_SUCCESS"), Self.event(rules, 30, "LOGIN_FAILURE")]).count == 1)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_FAILURE"), Self.event(rules, 30, "LOGIN_SUCCESS")]).count == 1)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_FAILURE"), Self.event(rules, 61, "LOGIN_SUCCESS")]).isEmpty)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_FAILURE", user: "a"), Self.event(rules, 1, "LOGIN_SUCCESS", user: "b")]).isEmpty)
        // The alert counts and references the events that completed the set.
        let pair = Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_SUCCESS", line: 1), Self.event(rules, 30, "LOGIN_FAILURE", line: 2)])
        #expect(pair.first?.eventCount == 2)
        #expect(pair.first?.events == [.line(source: 0, line: 2), .line(source: 0, line: 1)] || pair.first?.events == [.line(source: 0, line: 1), .line(source: 0, line: 2)])
    }

    @Test("temporal_ordered over three rules keeps all three events as evidence")
    func threeStepSequence() throws {
        let rules = try Self.correlation("""
              type: temporal_ordered
              rules: [failure, success, logout]
              group-by: [user]
              timespan: 1m
            """)
        let events = [Self.event(rules, 0, "LOGIN_FAILURE", line: 1), Self.event(rules, 10, "LOGIN_SUCCESS", line: 2),
                      Self.event(rules, 20, "LOGOUT", line: 3),
                      // A second run that shares its first step with nothing: only the full sequence fires.
                      Self.event(rules, 30, "LOGIN_FAILURE", line: 4), Self.event(rules, 31, "LOGIN_SUCCESS", line: 5),
                      Self.event(rules, 32, "LOGIN_FAILURE", line: 6), Self.event(rules, 33, "LOGIN_SUCCESS", line: 7),
                      Self.event(rules, 34, "LOGOUT", line: 8)]
        let alerts = Fixture.alerts(rules, events)
        #expect(alerts.count == 2)
        #expect(alerts.first?.events == (1...3).map { EventRef.line(source: 0, line: Int64($0)) })
        #expect(alerts.first?.eventCount == 3)
        #expect(alerts.last?.events == [6, 7, 8].map { EventRef.line(source: 0, line: Int64($0)) })

        // Thousands of sequences over hours of event time: evidence storage is collected between
        // them, and every alert still names exactly its own three events.
        var stream: [EventRecord] = []
        for i in 0..<5000 {
            let t = Double(i) * 2, user = "u\(i % 50)", line = Int64(3 * i)
            stream += [Self.event(rules, t, "LOGIN_FAILURE", user: user, line: line + 1),
                       Self.event(rules, t + 0.5, "LOGIN_SUCCESS", user: user, line: line + 2),
                       Self.event(rules, t + 1, "LOGOUT", user: user, line: line + 3)]
        }
        let many = Fixture.alerts(rules, stream)
        #expect(many.count == 5000)
        for alert in many {
            guard case .line(_, let first) = alert.events.first else { Issue.record("no evidence"); continue }
            #expect(alert.events == (first...(first + 2)).map { EventRef.line(source: 0, line: $0) })
        }
    }

    @Test("temporal_ordered: only in the listed order; each completed sequence is one alert")
    func temporalOrdered() throws {
        let rules = try Self.correlation("""
              type: temporal_ordered
              rules: [success, logout]
              group-by: [user]
              timespan: 1m
            """)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_SUCCESS"), Self.event(rules, 59, "LOGOUT")]).count == 1)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_SUCCESS"), Self.event(rules, 60, "LOGOUT")]).count == 1)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGIN_SUCCESS"), Self.event(rules, 60.5, "LOGOUT")]).isEmpty)
        #expect(Fixture.alerts(rules, [Self.event(rules, 0, "LOGOUT"), Self.event(rules, 10, "LOGIN_SUCCESS")]).isEmpty)
        // Login, logout, logout: the second logout has no login left to pair with.
        let cycles = [Self.event(rules, 0, "LOGIN_SUCCESS"), Self.event(rules, 5, "LOGOUT"), Self.event(rules, 6, "LOGOUT"),
                      Self.event(rules, 7, "LOGIN_SUCCESS"), Self.event(rules, 8, "LOGOUT")]
        #expect(Fixture.alerts(rules, cycles).count == 2)
        // The newest login counts: an old login outside the window does not spoil a new pair.
        let stale = [Self.event(rules, 0, "LOGIN_SUCCESS"), Self.event(rules, 100, "LOGIN_SUCCESS"), Self.event(rules, 130, "LOGOUT")]
        #expect(Fixture.alerts(rules, stale).count == 1)
    }

    @Test("value_sum, value_avg and value_percentile over a numeric field")
    func aggregates() throws {
        let sum = try Self.correlation("""
              type: value_sum
              rules: [transfer]
              group-by: [user]
              timespan: 1h
              condition: {field: amount, gt: 1000}
            """)
        let transfers = [400, 500, 200].enumerated().map { Self.event(sum, Double($0.offset), "TRANSFER", amount: .int(Int64($0.element))) }
        #expect(Fixture.alerts(sum, Array(transfers.prefix(2))).isEmpty)
        #expect(Fixture.alerts(sum, transfers).count == 1)

        let avg = try Self.correlation("""
              type: value_avg
              rules: [transfer]
              group-by: [user]
              timespan: 1h
              condition: {field: amount, gte: 100, lte: 200}
            """)
        #expect(Fixture.alerts(avg, [Self.event(avg, 0, "TRANSFER", amount: .int(50)), Self.event(avg, 1, "TRANSFER", amount: .int(250))]).count == 1)
        #expect(Fixture.alerts(avg, [Self.event(avg, 0, "TRANSFER", amount: .int(50)), Self.event(avg, 1, "TRANSFER", amount: .int(450))]).isEmpty)

        let percentile = try Self.correlation("""
              type: value_percentile
              rules: [transfer]
              group-by: [user]
              timespan: 1d
              condition: {field: amount, gte: 100}
            """)
        // A new maximum is at the 100th percentile of its window; the first value is too.
        let values = [10, 20, 15, 12, 30].enumerated().map { Self.event(percentile, Double($0.offset), "TRANSFER", amount: .string(String($0.element))) }
        let alerts = Fixture.alerts(percentile, values)
        #expect(alerts.count == 2)   // [10, 20] one episode (both maxima), then 30 after 15 and 12 broke it
    }

    @Test("chaining: a correlation's matches are events for the correlation that references it")
    func chaining() throws {
        let rules = try Fixture.rules(Self.base + """

            ---
            title: many failures
            name: many_failures
            correlation:
                type: event_count
                rules: [failure]
                group-by: [ip]
                timespan: 10m
                condition: {gte: 3}
            ---
            title: success after failures
            id: CHAIN
            level: high
            correlation:
                type: temporal_ordered
                rules: [many_failures, success]
                group-by: [ip]
                timespan: 10m
            """)
        let attack = [0, 1, 2].map { Self.event(rules, $0, "LOGIN_FAILURE", line: Int64($0) + 1) } + [Self.event(rules, 30, "LOGIN_SUCCESS", line: 4)]
        let alerts = Fixture.alerts(rules, attack)
        #expect(alerts.map(\.rule.label) == ["CHAIN"])   // the intermediate correlation raises nothing itself
        #expect(Set(alerts.first?.events ?? []) == Set((1...4).map { EventRef.line(source: 0, line: $0) }))
        let notEnough = [0, 1].map { Self.event(rules, $0, "LOGIN_FAILURE") } + [Self.event(rules, 30, "LOGIN_SUCCESS")]
        #expect(Fixture.alerts(rules, notEnough).isEmpty)
        let otherAddress = [0, 1, 2].map { Self.event(rules, $0, "LOGIN_FAILURE") } + [Self.event(rules, 30, "LOGIN_SUCCESS", ip: "10.9.9.9")]
        #expect(Fixture.alerts(rules, otherAddress).isEmpty)

        // 4000 attacks from as many addresses, each success 5 minutes after its failures: hundreds of
        // chains wait at any time while evidence storage is collected, and each alert still names
        // exactly its own four events.
        var timed: [(Double, EventRecord)] = []
        for i in 0..<4000 {
            let ip = "10.\(i / 256).\(i % 256).1", t = Double(i), line = Int64(4 * i)
            for k in 0..<3 { timed.append((t + Double(k) / 10, Self.event(rules, t + Double(k) / 10, "LOGIN_FAILURE", ip: ip, line: line + Int64(k) + 1))) }
            timed.append((t + 300, Self.event(rules, t + 300, "LOGIN_SUCCESS", ip: ip, line: line + 4)))
        }
        let many = Fixture.alerts(rules, timed.sorted { $0.0 < $1.0 }.map(\.1))
        #expect(many.count == 4000)
        for alert in many {
            let lines = alert.events.compactMap { ref -> Int64? in if case .line(_, let line) = ref { return line }; return nil }
            let first = ((lines.min() ?? 0) - 1) / 4 * 4 + 1
            #expect(Set(lines) == Set(first...(first + 3)), "alert \(alert.number): \(lines)")
        }
    }

    @Test("aliases group differently named fields together")
    func aliases() throws {
        let rules = try Fixture.rules("""
            title: download
            name: download
            detection: {sel: {action: DOWNLOAD}, condition: sel}
            level: low
            ---
            title: upload
            name: upload
            detection: {sel: {action: UPLOAD}, condition: sel}
            level: low
            ---
            title: relay
            id: RELAY
            level: high
            correlation:
                type: temporal
                rules: [download, upload]
                group-by: [host]
                timespan: 1m
                aliases:
                    host:
                        download: destination
                        upload: source
            """)
        func event(_ t: Double, _ action: String, _ field: String, _ value: String) -> EventRecord {
            Fixture.event(rules, at: t, ["action": s(action), field: s(value)])
        }
        #expect(Fixture.alerts(rules, [event(0, "DOWNLOAD", "destination", "h1"), event(1, "UPLOAD", "source", "h1")]).count == 1)
        #expect(Fixture.alerts(rules, [event(0, "DOWNLOAD", "destination", "h1"), event(1, "UPLOAD", "source", "h2")]).isEmpty)
        #expect(Fixture.alerts(rules, [event(0, "DOWNLOAD", "source", "h1"), event(1, "UPLOAD", "destination", "h1")]).isEmpty)
    }

    @Test("generate: the referenced rules raise their own alerts too")
    func generate() throws {
        let quiet = try Self.correlation(Self.bruteForce)
        let loud = try Self.correlation(Self.bruteForce + "\n  generate: true\n")
        let events = (0..<4).map { Self.event(quiet, Double($0), "LOGIN_FAILURE") }
        #expect(Fixture.alerts(quiet, events).count == 1)
        #expect(Fixture.alerts(loud, events).count == 5)
    }

    @Test("events without a group-by field are not correlated")
    func ungrouped() throws {
        let rules = try Self.correlation(Self.bruteForce)
        var engine = DetectionEngine(rules: rules)
        for t in 0..<5 { engine.process(Fixture.event(rules, at: Double(t), ["action": s("LOGIN_FAILURE")])) }
        engine.finish()
        #expect(engine.drainUpdates().isEmpty)
        #expect(engine.statistics.ungrouped == 5)
    }

    @Test("memory is bounded by the keys active in the window, not by the input")
    func eviction() throws {
        let rules = try Self.correlation(Self.bruteForce)
        var engine = DetectionEngine(rules: rules)
        var peak = 0, peakSymbols = 0
        // 100 000 failures from 100 000 addresses, one per second: at most ~300 in any 5 minutes.
        for i in 0..<100_000 {
            let ip = "10.\(i / 65536).\(i / 256 % 256).\(i % 256)"
            engine.process(Self.event(rules, Double(i), "LOGIN_FAILURE", ip: ip))
            peak = max(peak, engine.statistics.liveGroups)
            peakSymbols = max(peakSymbols, engine.statistics.symbols)
        }
        #expect(peak <= 700, "peak live groups \(peak)")
        #expect(peak >= 300)
        // The interned addresses are freed with their groups (collected once the table doubles).
        #expect(peakSymbols <= 2 * 4096 + 700, "peak symbols \(peakSymbols)")
    }
}

extension CorrelationTests {
    @Test("a flood from one key keeps 16 bytes per event in the window and only the newest evidence")
    func floodMemory() throws {
        let rules = try Self.correlation(Self.bruteForce)
        var engine = DetectionEngine(rules: rules)
        for i in 0..<20_000 { engine.process(Self.event(rules, Double(i) / 100, "LOGIN_FAILURE", line: Int64(i + 1))) }
        engine.finish()
        let alerts = engine.drainUpdates().compactMap { if case .closed(let alert) = $0 { return alert }; return nil }
        #expect(alerts.count == 1)
        #expect(alerts.first?.eventCount == 20_000)
        #expect(alerts.first?.events.count == Alert.maxReferences)
        #expect(MemoryLayout<CountGroup.Stamp>.stride == 16)
    }
}

extension CorrelationTests {
    static let reuseBodies = [
        bruteForce,
        """
          type: value_count
          rules: [failure]
          group-by: [ip]
          timespan: 10m
          condition: {field: user, gte: 3}
        """,
        """
          type: value_sum
          rules: [transfer]
          group-by: [ip]
          timespan: 5m
          condition: {field: amount, gt: 100}
        """,
        """
          type: temporal_ordered
          rules: [failure, success, logout]
          group-by: [ip]
          timespan: 1m
        """,
    ]

    @Test("groups that expire give their window state to later keys clean: each key's alerts are as if it were alone",
          arguments: reuseBodies)
    func windowReuse(body: String) throws {
        let rules = try Self.correlation(body)
        // 30 rounds of 4 keys; between rounds, time passes and a sweep removes every group, so
        // the next round's keys take over the windows the last round's left.
        var keys: [[EventRecord]] = []
        var line: Int64 = 0
        for round in 0..<30 {
            for key in 0..<4 {
                let t0 = Double(round) * 3600 + Double(key) * 100
                let ip = "10.\(round).\(key).1"
                // A different number of events per key, so that left-over counts would show.
                var events: [EventRecord] = []
                for n in 0..<(3 + (round + key) % 5) {
                    let t = t0 + Double(n) * 4
                    for action in ["LOGIN_FAILURE", "LOGIN_SUCCESS", "LOGOUT", "TRANSFER"] {
                        line += 1
                        events.append(Self.event(rules, t + Double(events.count % 4) * 0.25, action, ip: ip, user: "u\(n)",
                                                 amount: .int(Int64(20 + 10 * n)), line: line))
                    }
                }
                keys.append(events)
            }
        }
        func summary(_ alerts: [Alert]) -> [String] {
            alerts.map { "\($0.group) \($0.firstTime.microseconds) \($0.eventCount) \($0.events)" }.sorted()
        }
        var engine = DetectionEngine(rules: rules, latenessSeconds: 0)
        var together: [Alert] = []
        for (index, events) in keys.enumerated() {
            for event in events { engine.process(event) }
            if index % 4 == 3 {
                engine.advance(to: Timestamp(microseconds: events.last!.timestamp.microseconds + 1_800_000_000))
                #expect(engine.statistics.liveGroups == 0, "round \(index / 4): groups left after the sweep")
            }
            for case .closed(let alert) in engine.drainUpdates() { together.append(alert) }
        }
        engine.finish()
        for case .closed(let alert) in engine.drainUpdates() { together.append(alert) }
        let alone = keys.flatMap { Fixture.alerts(rules, $0) }
        #expect(!alone.isEmpty)
        let (a, b) = (summary(together), summary(alone))
        #expect(a == b, "only together: \(Set(a).subtracting(b).sorted()), only alone: \(Set(b).subtracting(a).sorted())")
    }
}
