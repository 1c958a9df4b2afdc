@testable import DetectionEngine
import SecurityModel
import Testing

@Suite("Replacing rules")
struct RuleReplacementTests {
    static let detection = """
        title: Failure
        name: failure
        logsource: {product: test}
        detection:
          selection: {action: FAIL}
          condition: selection
        level: low
        """
    static func correlation(threshold: Int = 3, id: String = "C-1") -> String {
        """
        title: Many failures
        id: \(id)
        correlation:
          type: event_count
          rules: [failure]
          group-by: [ip]
          timespan: 60s
          condition: {gte: \(threshold)}
        level: high
        """
    }

    static func load(_ documents: [String], file: String = "rules.yml") throws -> RuleSet {
        try Fixture.rules(documents.joined(separator: "\n---\n"), file: file)
    }

    struct Run {
        var engine: DetectionEngine
        var line: Int64 = 0
        var closed: [Alert] = []
        let source = LogSource(product: "test")

        mutating func feed(_ ip: String, at seconds: Double) {
            line += 1
            engine.process(Fixture.event(engine.rules, at: seconds, line: line, source: source, ["action": s("FAIL"), "ip": s(ip)]))
            for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) }
        }

        mutating func replace(_ rules: RuleSet) -> DetectionEngine.RuleChange {
            let change = engine.replaceRules(rules)
            for case .closed(let alert) in engine.drainUpdates() { closed.append(alert) }
            return change
        }
    }

    @Test("an unchanged correlation keeps its window and its open alert, wherever its document moved")
    func keeps() throws {
        var run = Run(engine: DetectionEngine(rules: try Self.load([Self.detection, Self.correlation()]), latenessSeconds: 0))
        run.feed("10.0.0.1", at: 0)
        run.feed("10.0.0.1", at: 1)
        // The same rules in another order, in another file, with a comment: the same content.
        let moved = try Self.load(["# moved\n" + Self.correlation(), Self.detection], file: "other.yml")
        #expect(run.replace(moved) == .init(kept: ["C-1"], reset: []))
        run.feed("10.0.0.1", at: 2)
        let open = try #require(run.engine.openAlerts.first)
        #expect(open.eventCount == 3)
        #expect(open.events == [.line(source: 0, line: 1), .line(source: 0, line: 2), .line(source: 0, line: 3)])
        #expect(open.rule.file == "other.yml")
        // The open alert goes on across a second reload.
        #expect(run.replace(moved).kept == ["C-1"])
        run.feed("10.0.0.1", at: 3)
        #expect(run.engine.openAlerts.map(\.number) == [open.number])
        #expect(run.engine.openAlerts.first?.eventCount == 4)
        #expect(run.closed.isEmpty)
        run.engine.finish()
        for case .closed(let alert) in run.engine.drainUpdates() { run.closed.append(alert) }
        #expect(run.closed.map(\.eventCount) == [4])
    }

    @Test("a changed correlation, a changed source rule or a new filter starts empty and closes its open alert",
          arguments: ["threshold", "source", "filter", "removed"])
    func resets(_ change: String) throws {
        var run = Run(engine: DetectionEngine(rules: try Self.load([Self.detection, Self.correlation()]), latenessSeconds: 0))
        for t in 0..<3 { run.feed("10.0.0.1", at: Double(t)) }
        #expect(run.engine.openAlerts.count == 1)
        let rules: RuleSet
        switch change {
        case "threshold": rules = try Self.load([Self.detection, Self.correlation(threshold: 2)])
        case "source": rules = try Self.load([Self.detection.replacingOccurrences(of: "level: low", with: "level: medium"), Self.correlation()])
        case "filter":
            rules = try Self.load([Self.detection, Self.correlation(), """
                title: Not the scanner
                filter:
                  rules: [failure]
                  selection: {ip: 10.9.9.9}
                  condition: not selection
                """])
        default: rules = try Self.load([Self.detection, Self.correlation(id: "C-2")])
        }
        let result = run.replace(rules)
        #expect(result.reset == ["C-1"])
        #expect(run.closed.map(\.eventCount) == [3])
        #expect(run.engine.openAlerts.isEmpty)
        // The window restarted: one more event is not enough.
        run.feed("10.0.0.1", at: 3)
        #expect(run.engine.openAlerts.isEmpty)
    }
}
