import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import SecurityModel
import Testing

/// The bundled rule pack: it loads cleanly, every alerting rule has tests that fire it and tests
/// that must stay silent, and all of them pass.
@Suite("Default rule pack")
struct RulePackTests {
    static func specs() throws -> [RuleTestCase] {
        var diagnostics: [RuleDiagnostic] = []
        let files = RuleDirectory.files(at: Paths.rules, &diagnostics) { $0.hasSuffix(".tests.yml") }
        #expect(diagnostics.isEmpty)
        return try files.flatMap { file -> [RuleTestCase] in
            let parsed = RuleTestCase.parse(specFile: file, text: try String(contentsOfFile: file, encoding: .utf8))
            #expect(parsed.diagnostics.isEmpty, "\(parsed.diagnostics)")
            return parsed.cases
        }
    }

    @Test("D-01 to D-04 are defined as DETECTION.md states")
    func defaults() throws {
        let rules = Pack.rules
        func correlation(_ id: String) throws -> CorrelationRule { try #require(rules.correlations.first { $0.info.label == id }) }
        let d01 = try correlation("D-01"), d02 = try correlation("D-02"), d03 = try correlation("D-03"), d04 = try correlation("D-04")
        #expect((d01.type, d01.groupBy, d01.timespan.text, d01.condition?.description, d01.info.level) == (.eventCount, ["ip_address"], "5m", "gt 3", .high))
        #expect((d02.type, d02.groupBy, d02.timespan.text, d02.condition?.description, d02.info.level) == (.eventCount, ["ip_address"], "2m", "gt 10", .medium))
        #expect((d03.type, d03.groupBy, d03.timespan.text, d03.info.level) == (.temporalOrdered, ["username"], "1m", .medium))
        #expect(d03.references == ["secmon_login_success", "secmon_logout"])
        #expect((d04.type, d04.timespan.text, d04.condition?.description, d04.info.level) == (.eventCount, "1m", "gte 5", .low))
        let pair = try #require(rules.correlations.first { $0.info.name == d04.references.first })
        #expect((pair.type, pair.timespan.text, pair.references) == (.temporalOrdered, "5s", ["secmon_page_visit", "secmon_api_request"]))
    }

    @Test("every alerting rule has a case that fires it and a case that must stay silent")
    func coverage() throws {
        let cases = try Self.specs()
        let rules = Pack.rules
        let alerting = (0..<rules.count).filter { rules.raisesAlerts(node: $0) }
        // The loop below must look at every rule of the pack that raises alerts (D-01..D-16).
        #expect(alerting.count >= 16)
        for node in alerting {
            let info = rules.info(ofNode: node)
            let mine = cases.filter { $0.ruleFile == info.file }
            #expect(mine.contains { $0.expectations.contains { [info.id, info.name].contains($0.rule) && $0.alerts > 0 } }, "\(info.label) has no firing test")
            #expect(mine.contains { $0.expectations.isEmpty }, "\(info.label) has no silent test")
        }
    }

    @Test("every rule test passes")
    func all() throws {
        let cases = try Self.specs()
        #expect(cases.count >= 32)
        for testCase in cases {
            // A case with its own placeholder lists (H-02's indicators) runs on the pack compiled with them.
            var rules = Pack.rules
            if let table = testCase.placeholders {
                let loaded = RuleDirectory.load(Paths.rules, placeholders: table)
                #expect(loaded.errors.isEmpty)
                rules = loaded.ruleSet
            }
            let result = RuleTestRunner.run(testCase, logText: testCase.log ?? "", rules: rules, referenceTime: Timestamp(iso8601: "2026-11-22T12:00:00Z")!)
            #expect(result.passed, "\(testCase.specFile):\(testCase.line) \(testCase.name): \(result.failures)")
        }
    }

    @Test("the test runner fails on wrong expectations")
    func runnerCanFail() throws {
        let specText = """
            tests:
              - name: wrong count
                format: activity
                log: |
                  {"timestamp": "2026-11-20T10:00:00", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  {"timestamp": "2026-11-20T10:00:01", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  {"timestamp": "2026-11-20T10:00:02", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  {"timestamp": "2026-11-20T10:00:03", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  not json at all
                expect:
                  - rule: D-01
                    alerts: 2
              - name: silence expected
                format: activity
                log: |
                  {"timestamp": "2026-11-20T10:00:00", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  {"timestamp": "2026-11-20T10:00:01", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  {"timestamp": "2026-11-20T10:00:02", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                  {"timestamp": "2026-11-20T10:00:03", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}
                expect: []
            """
        let specFile = Paths.rules + "/secmon/d01_brute_force.tests.yml"
        let parsed = RuleTestCase.parse(specFile: specFile, text: specText)
        #expect(parsed.cases.count == 2)
        let reference = Timestamp(iso8601: "2026-11-22T12:00:00Z")!
        let wrong = RuleTestRunner.run(parsed.cases[0], logText: parsed.cases[0].log!, rules: Pack.rules, referenceTime: reference)
        #expect(wrong.failures.contains { $0.contains("expected 2 alert(s) of D-01, got 1") })
        #expect(wrong.failures.contains { $0.contains("sample line 5 was rejected") })
        let silent = RuleTestRunner.run(parsed.cases[1], logText: parsed.cases[1].log!, rules: Pack.rules, referenceTime: reference)
        #expect(silent.failures.contains { $0.contains("unexpected alert D-01") })
        let bad = RuleTestCase.parse(specFile: "x.tests.yml", text: "tests:\n  - name: n\n    expect: []\n")
        #expect(bad.diagnostics.first?.message.contains("either 'log'") == true)
    }
}
