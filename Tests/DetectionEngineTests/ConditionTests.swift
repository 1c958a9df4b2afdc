@testable import DetectionEngine
import SecurityModel
import Testing

/// The condition grammar: precedence (or < and < not < x of < parentheses), patterns, `them`.
@Suite("Sigma conditions")
struct ConditionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let condition: String
        /// Which of the searches a, b, c, _d match the event.
        let truth: (a: Bool, b: Bool, c: Bool, d: Bool)
        let expected: Bool
        var testDescription: String { "\(condition) with a=\(truth.a) b=\(truth.b) c=\(truth.c) _d=\(truth.d) -> \(expected)" }
    }

    static let cases: [Case] = [
        Case(condition: "sel_a", truth: (true, false, false, false), expected: true),
        Case(condition: "sel_a and sel_b", truth: (true, false, false, false), expected: false),
        Case(condition: "sel_a or sel_b", truth: (false, true, false, false), expected: true),
        Case(condition: "not sel_a", truth: (false, false, false, false), expected: true),
        // and binds tighter than or.
        Case(condition: "sel_a or sel_b and sel_c", truth: (true, false, false, false), expected: true),
        Case(condition: "(sel_a or sel_b) and sel_c", truth: (true, false, false, false), expected: false),
        // not binds tighter than and.
        Case(condition: "not sel_a and sel_b", truth: (false, true, false, false), expected: true),
        Case(condition: "not (sel_a and sel_b)", truth: (true, true, false, false), expected: false),
        Case(condition: "not not sel_a", truth: (true, false, false, false), expected: true),
        Case(condition: "1 of sel_*", truth: (false, false, true, false), expected: true),
        Case(condition: "1 of sel_*", truth: (false, false, false, true), expected: false),
        Case(condition: "all of sel_*", truth: (true, true, false, true), expected: false),
        Case(condition: "all of sel_*", truth: (true, true, true, false), expected: true),
        Case(condition: "1 of them", truth: (false, false, false, true), expected: false),
        Case(condition: "all of them", truth: (true, true, true, false), expected: true),
        Case(condition: "1 of them and not _sel_d", truth: (true, false, false, true), expected: false),
        Case(condition: "sel_a and not 1 of _sel*", truth: (true, false, false, false), expected: true),
        Case(condition: "SEL_A OR sel_b", truth: (false, true, false, false), expected: false),  // identifiers are case-sensitive
    ]

    static let rulesYAML = """
            sel_a:
                a: x
            sel_b:
                b: x
            sel_c:
                c: x
            _sel_d:
                d: x
            condition: CONDITION
        """

    @Test(arguments: cases)
    func evaluates(_ c: Case) throws {
        let result = RuleLoader.load([RuleSource(path: "c.yml", text: """
            title: t
            detection:
            \(Self.rulesYAML.replacingOccurrences(of: "CONDITION", with: c.condition))
            level: low
            """)])
        if c.condition.hasPrefix("SEL_A") {
            #expect(result.errors.first?.message.contains("unknown search identifier 'SEL_A'") == true)
            return
        }
        #expect(result.errors.isEmpty, "\(result.errors)")
        let rules = result.ruleSet
        var fields: [String: FieldValue] = [:]
        if c.truth.a { fields["a"] = s("x") }
        if c.truth.b { fields["b"] = s("x") }
        if c.truth.c { fields["c"] = s("x") }
        if c.truth.d { fields["d"] = s("x") }
        let rule = try #require(rules.detections.first)
        #expect(rule.matches(Fixture.event(rules, fields)) == c.expected)
    }

    @Test("bad conditions are rejected with the problem named", arguments: [
        ("sel_a and", "the condition ends"),
        ("(sel_a", "missing ')'"),
        ("sel_a )", "unexpected ')'"),
        ("sel_x", "unknown search identifier 'sel_x'"),
        ("1 of nothing*", "matches no search identifier"),
        ("sel_a | count() > 5", "aggregation syntax"),
        ("2 of sel_*", "'2 of' is not supported"),
        ("sel_a and or sel_b", "needs a search identifier"),
        ("sel_a; drop", "unexpected character ';'"),
    ])
    func rejects(_ condition: String, _ message: String) {
        let diagnostics = Fixture.diagnostics("""
            title: broken
            id: X-1
            detection:
            \(Self.rulesYAML.replacingOccurrences(of: "CONDITION", with: "'\(condition)'"))
            level: low
            """)
        let error = diagnostics.first { $0.severity == .error }
        #expect(error?.message.contains(message) == true, "\(diagnostics)")
        #expect(error?.rule == "X-1")
        #expect(error?.file == "bad.yml")
        #expect(error?.line == 12)
    }
}
