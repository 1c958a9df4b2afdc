@testable import DetectionEngine
import SecurityModel
import Testing

/// The rule loader takes files anyone may hand it (a downloaded rule pack): whatever the YAML, the
/// condition or the correlation says, it reports errors with file and line and never traps.
@Suite("Fuzzing the rule loader")
struct RuleLoaderFuzzTests {
    static let seed = """
        title: Failure
        id: F-1
        name: failure
        logsource: {product: test, service: auth}
        detection:
          selection:
            action|contains|all: [FAIL, "x*y?"]
            path|re|i: '^/a(b|c)+$'
            ip|cidr: [10.0.0.0/8, "::1/128"]
            n|gte: 5
          filter:
            user|base64offset|contains: admin
          keywords: [evil, "bad*"]
          condition: (selection and not filter) or 1 of key* or all of them
        level: high
        ---
        title: Many
        id: C-1
        correlation:
          type: value_count
          rules: [failure]
          group-by: [ip, host]
          timespan: 5m
          condition: {gte: 3, lte: 100, field: user}
          aliases: {host: {failure: hostname}}
        generate: true
        level: critical
        ---
        title: Seq
        id: C-2
        correlation:
          type: temporal_ordered
          rules: [failure, C-1]
          group-by: [ip]
          timespan: 30s
        level: low
        ---
        title: Quiet scanner
        filter:
          rules: [failure]
          selection: {ip: 10.9.9.9}
          condition: not selection
        """

    static let tokens = [
        ":", "- ", "[", "]", "{", "}", "|", "|re", "|cidr", "|base64offset", "*", "?", "\\", "'", "\"", "(", ")", " and ", " or ",
        " not ", " of ", "1 of ", "all of them", "\n", "\n  ", "\t", "&anchor ", "*anchor", "!!binary ", "---\n", "%YAML 1.2\n",
        "type: ", "timespan: 0s", "timespan: 99999999999d", "gte: -1", "gt: 1e308", "rules: []", "group-by: [a,b,c,d,e,f,g,h,i]",
        "condition: ", "((((((((((", "))))", "|re: '(a+)+$'", "|re: '['", "|cidr: 300.1.1.1/99", "|base64: ", "é", "\u{0000}",
    ]

    @Test("mutated rule files load or fail with located errors, never a trap")
    func mutations() {
        var rng = SeededGenerator(seed: 0x51_6A_A0)
        var withErrors = 0
        for round in 0..<800 {
            var text = Array(Self.seed)
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let position = Int.random(in: 0...text.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: text.insert(contentsOf: Self.tokens.randomElement(using: &rng)!, at: position)
                case 1 where !text.isEmpty:
                    let end = min(text.count, position + Int.random(in: 1...20, using: &rng))
                    text.removeSubrange(min(position, end)..<end)
                case 2: text.removeSubrange(position..<text.count)
                case 3 where !text.isEmpty:
                    let start = Int.random(in: 0..<text.count, using: &rng)
                    let end = min(text.count, start + Int.random(in: 1...60, using: &rng))
                    text.insert(contentsOf: text[start..<end], at: position)
                default:
                    text.insert(contentsOf: Self.tokens.randomElement(using: &rng)!, at: position)
                }
            }
            let result = RuleLoader.load([RuleSource(path: "fuzz-\(round).yml", text: String(text))])
            if !result.errors.isEmpty { withErrors += 1 }
            for diagnostic in result.diagnostics {
                #expect(diagnostic.file == "fuzz-\(round).yml")
                #expect(diagnostic.line >= 0)
                #expect(!diagnostic.message.isEmpty)
            }
            // What did load must run: an event through every rule does not trap either.
            var engine = DetectionEngine(rules: result.ruleSet, latenessSeconds: 0)
            var record = EventRecord(slotCount: result.ruleSet.fields.count, logSource: LogSource(product: "test", service: "auth"))
            for slot in 0..<record.slotCount { record[slot] = .string("10.0.0.1 FAIL x1y admin /abc") }
            engine.process(record)
            engine.finish()
        }
        // The mutations do break rules (the test exercises the error paths, not only the happy one).
        #expect(withErrors > 100)
    }
}
