import Analysis
import DetectionEngine
import EventPipeline
import LogFormats
import Foundation
import SecurityModel
import Testing

/// The default pack over logs with known attacks: the original app's log, and a generated log whose
/// ground truth (`gen_seed_log.py`) states exactly which D-01..D-03 alerts must fire.
@Suite("Analysis of labelled logs")
struct GeneratedLogTests {
    @Test("the original app's log gives the alerts its rules imply")
    func seedLog() throws {
        let report = try analyze([Paths.seedLog])
        #expect(report.totalEvents == 46)
        #expect(report.totalRejected == 0)
        #expect(report.inputs.first?.format == .activity)
        let byRule = Dictionary(grouping: report.alerts, by: { $0.rule.label })
        // ref_analyze.py on the same file: D-01 0, D-02 0, D-03 3.
        #expect(byRule["D-01"] == nil)
        #expect(byRule["D-02"] == nil)
        #expect(byRule["D-03"]?.count == 3)
        #expect(byRule["D-03"]?.allSatisfy { $0.group == [Alert.GroupValue(field: "username", value: "1")] && $0.eventCount == 2 } == true)
        // Every API_REQUEST there follows its PAGE_VISIT within milliseconds: a bot-like burst at 05:30.
        #expect(byRule["D-04"]?.count == 1)
        #expect(byRule.keys.sorted() == ["D-03", "D-04"])
    }

    @Test("a generated log (gzip) gives exactly the expected D-01..D-03 alerts and triggers")
    func truth() throws {
        let report = try analyze([Paths.generated])
        #expect(report.totalEvents == 60_000)
        #expect(report.totalRejected == 0)
        #expect(report.engine.late == 0)
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Paths.truth))) as! [String: Any]
        let alerts = truth["expected_alert_totals"] as! [String: Int]
        let triggers = truth["expected_trigger_totals"] as! [String: Int]
        for rule in ["D-01", "D-02", "D-03"] {
            let fired = report.alerts.filter { $0.rule.label == rule }
            #expect(fired.count == alerts[rule], "\(rule) alerts")
            #expect(fired.reduce(0) { $0 + $1.holdCount } == triggers[rule], "\(rule) triggers")
        }
        // Every D-01/D-02 alert is keyed by an attacking episode's address, D-03 by its user.
        let episodes = truth["episodes"] as! [[String: Any]]
        let ips = Set(episodes.compactMap { $0["ip"] as? String })
        let users = Set(episodes.flatMap { [$0["user"] as? String, $0["target_user"] as? String].compactMap { $0 } })
        for alert in report.alerts where ["D-01", "D-02"].contains(alert.rule.label) {
            #expect(ips.contains(alert.group[0].value ?? ""), "\(alert.groupDescription)")
        }
        for alert in report.alerts where alert.rule.label == "D-03" {
            #expect(users.contains(alert.group[0].value ?? ""), "\(alert.groupDescription)")
        }
        // Evidence points at the lines of the input.
        let first = try #require(report.alerts.first)
        #expect(first.events.allSatisfy { if case .line(0, let line) = $0 { return line >= 1 && line <= 60_000 }; return false })
    }

    @Test("alerts never depend on how the input is cut into reads", arguments: [1, 7, 64, 4096])
    func chunking(_ chunkSize: Int) throws {
        // The first 4000 lines of the generated log, plain.
        let path = Paths.temporary("part.log")
        var lines: [String] = []
        let reader = try LineReader(path: Paths.generated)
        try reader.forEach { item in
            if lines.count < 4000, case .line(let line) = item { lines.append(String(decoding: line, as: UTF8.self)) }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path.path, atomically: true, encoding: .utf8)
        let whole = try analyze([path.path]).alerts.map(AlertKey.init)
        let cut = try analyze([path.path], chunkSize: chunkSize).alerts.map(AlertKey.init)
        #expect(!whole.isEmpty)
        #expect(cut == whole)
    }

    @Test("streaming (alerts drained after every event) and batch give identical alerts, for any split")
    func streamingEqualsBatch() throws {
        var records: [EventRecord] = []
        let rules = Pack.rules
        var decoderRecord = EventRecord(slotCount: rules.fields.count)
        var decoder = LogFormats.LineDecoder(format: .activity, fields: rules.fields, keepRawLine: false, referenceTime: Timestamp(microseconds: 0))
        let reader = try LineReader(path: Paths.generated)
        var number: Int64 = 0
        try reader.forEach { item in
            guard records.count < 20_000, case .line(let line) = item else { return }
            number += 1
            decoderRecord.ref = .line(source: 0, line: number)
            // Every line of the generated log decodes: a failure here is a bug, not something to skip.
            do {
                try decoder.decode(line, into: &decoderRecord)
            } catch {
                Issue.record("line \(number) was rejected: \(error)")
                return
            }
            records.append(decoderRecord)
        }
        func run(drainEvery split: (Int) -> Bool) -> [AlertKey] {
            var engine = DetectionEngine(rules: rules)
            var closed: [Alert] = []
            for (index, record) in records.enumerated() {
                engine.process(record)
                if split(index) { for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) } }
            }
            engine.finish()
            for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) }
            return closed.sorted { ($0.firstTime, $0.number) < ($1.firstTime, $1.number) }.map(AlertKey.init)
        }
        let batch = run { _ in false }
        #expect(batch.count > 10)
        #expect(run { _ in true } == batch)
        // Random splits (a fixed-seed generator, so a failure can be replayed).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let modulus = Int(state >> 55) + 2
            #expect(run { $0 % modulus == 0 } == batch, "split every \(modulus)")
        }
    }
}
