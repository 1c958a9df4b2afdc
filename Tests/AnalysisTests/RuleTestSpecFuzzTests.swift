import Analysis
import DetectionEngine
import SecurityModel
import Testing

/// The `.tests.yml` reader takes files beside downloaded rules: any text is read or reported with
/// its file and line, and a case that parses runs without trapping.
@Suite("Fuzzing the rule test reader")
struct RuleTestSpecFuzzTests {
    static let seed = """
        tests:
          - name: brute force fires
            log: |
              {"timestamp": "2026-02-24T05:00:00", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE", "taskName": null}
              {"timestamp": "2026-02-24T05:00:01", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE", "taskName": null}
            format: activity
            expect:
              - {rule: D-01, alerts: 1}
          - name: silent
            log_file: samples/none.log
            expect: []
        """
    static let tokens = [":", "- ", "|", ">", "[", "]", "{", "}", "\n", "\n  ", "\t", "alerts: -1", "alerts: 1e99", "rule: ", "expect:",
                         "log_file: ../../../etc/passwd", "format: nope", "&a ", "*a", "'", "\"", "é", "\u{0000}"]

    @Test("mutated test specs parse or fail with located errors; what parses runs")
    func mutations() {
        var rng = SeededGenerator(seed: 0x7E57)
        for round in 0..<600 {
            var text = Array(Self.seed)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let position = Int.random(in: 0...text.count, using: &rng)
                if Bool.random(using: &rng) || text.isEmpty {
                    text.insert(contentsOf: Self.tokens.randomElement(using: &rng)!, at: position)
                } else {
                    let end = min(text.count, position + Int.random(in: 1...25, using: &rng))
                    text.removeSubrange(min(position, end)..<end)
                }
            }
            let file = "fuzz-\(round).tests.yml"
            let parsed = RuleTestCase.parse(specFile: file, text: String(text))
            for diagnostic in parsed.diagnostics {
                #expect(diagnostic.file == file)
                #expect(!diagnostic.message.isEmpty)
            }
            for testCase in parsed.cases.prefix(2) {
                _ = RuleTestRunner.run(testCase, logText: testCase.log ?? "", rules: Pack.rules,
                                     referenceTime: Timestamp(iso8601: "2026-11-22T12:00:00Z")!)
            }
        }
    }
}
