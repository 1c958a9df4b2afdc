@testable import DetectionEngine
import SecurityModel
import Testing

/// Loading: documents, references, and errors that say where and how to fix.
@Suite("Rule loading")
struct RuleLoaderTests {
    static let sixtyFiveRules = "title: c\ncorrelation:\n  type: event_count\n  rules: [" + (1...65).map { "r\($0)" }.joined(separator: ", ")
        + "]\n  timespan: 5m\n  condition: {gt: 1}\n"

    static let badRules: [(String, Int, String, RuleLoadError.Code)] = [
        ("title: t\ndetection:\n  sel:\n    a|nope: x\n  condition: sel\n", 4, "unknown modifier 'nope'", .value),
        ("title: t\ndetection:\n  sel:\n    a|hour: 3\n  condition: sel\n", 4, "modifier 'hour' in 'a|hour' is not supported", .value),
        ("title: t\ndetection:\n  sel:\n    a: [x\n  condition: sel\n", 5, "invalid YAML", .yaml),
        ("title: t\ndetection:\n  sel:\n    a: x\n", 3, "no 'condition'", .detection),
        ("title: t\ndetection:\n  sel:\n    a|re: '(['\n  condition: sel\n", 4, "invalid regular expression", .value),
        ("title: t\ndetection:\n  sel:\n    a|cidr: 10.0.0.0/99\n  condition: sel\n", 4, "not a network in CIDR notation", .value),
        ("title: t\ndetection:\n  sel:\n    a|gt: many\n  condition: sel\n", 4, "needs a number", .value),
        ("title: t\ndetection:\n  sel:\n    a|contains|startswith: x\n  condition: sel\n", 4, "use one of contains", .value),
        ("title: t\ndetection:\n  sel:\n    a: x\n  timeframe: 5m\n  condition: sel\n", 5, "obsolete Sigma 1 aggregation", .detection),
        ("title: t\nlevel: severe\ndetection:\n  sel:\n    a: x\n  condition: sel\n", 2, "'level' must be one of", .document),
        ("detection:\n  sel:\n    a: x\n  condition: sel\n", 1, "'title' is required", .document),
        ("title: t\n", 1, "none of 'detection', 'correlation', 'filter' or 'baseline'", .document),
        ("title: c\ncorrelation:\n  type: event_sum\n  rules: [a]\n  timespan: 5m\n", 3, "unknown correlation type 'event_sum'", .correlation),
        ("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5 minutes\n  condition: {gt: 1}\n", 5, "timespan '5 minutes'", .correlation),
        ("title: c\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition: {gt: 1}\n", 3, "needs 'field'", .correlation),
        ("title: c\ncorrelation:\n  type: event_count\n  rules: [nowhere]\n  timespan: 5m\n  condition: {gt: 1}\n", 4, "references unknown rule 'nowhere'", .reference),
        ("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {over: 1}\n", 6, "unknown condition 'over'", .correlation),
        (Self.sixtyFiveRules,
         4, "at most 64 rules (this one lists 65)", .correlation),
    ]

    @Test("bad rules are rejected with file, line, rule, the problem and its code", arguments: badRules)
    func rejects(_ yaml: String, _ line: Int, _ message: String, _ code: RuleLoadError.Code) {
        let errors = Fixture.diagnostics(yaml).filter { $0.severity == .error }
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.code == code, "\(errors)")
        #expect(errors.first?.message.contains(message) == true, "\(errors)")
        #expect(errors.first?.line == line, "\(errors)")
        #expect(errors.first?.description.hasPrefix("bad.yml:\(line): error:") == true)
    }

    @Test("circular correlation chains are errors naming the chain")
    func cycles() {
        let errors = Fixture.diagnostics("""
            title: base
            name: base
            detection:
                sel:
                    a: x
                condition: sel
            level: low
            ---
            title: A
            name: corr_a
            correlation:
                type: event_count
                rules: [corr_b, base]
                timespan: 1m
                condition: {gt: 1}
            ---
            title: B
            name: corr_b
            correlation:
                type: event_count
                rules: [corr_a]
                timespan: 1m
                condition: {gt: 1}
            """).filter { $0.severity == .error }
        #expect(errors.contains { $0.code == .cycle && $0.message.contains("circular correlation chain") && $0.message.contains("corr_a") && $0.message.contains("corr_b") }, "\(errors)")
    }

    @Test("one bad rule does not stop the others from loading")
    func partial() {
        let result = RuleLoader.load([
            RuleSource(path: "good.yml", text: "title: g\nid: G\ndetection:\n  sel:\n    a: x\n  condition: sel\nlevel: low\n"),
            RuleSource(path: "bad.yml", text: "title: b\nid: B\ndetection:\n  sel:\n    a|bogus: x\n  condition: sel\nlevel: low\n"),
            RuleSource(path: "garbage.yml", text: "\u{0}\u{1}binary"),
        ])
        #expect(result.ruleSet.detections.map(\.info.label) == ["G"])
        #expect(result.errors.count == 2, "\(result.errors)")
        #expect(result.errors.contains { $0.file == "bad.yml" && $0.rule == "B" })
        #expect(result.errors.contains { $0.file == "garbage.yml" })
    }

    @Test("duplicate ids are rejected")
    func duplicates() {
        let errors = Fixture.diagnostics("""
            title: one
            id: SAME
            detection: {sel: {a: x}, condition: sel}
            level: low
            ---
            title: two
            id: SAME
            detection: {sel: {a: y}, condition: sel}
            level: low
            """).filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("'SAME' is already used by 'one'") == true)
        #expect(errors.first?.code == .duplicate)
    }

    @Test("filters AND their condition into the rules they name, for their logsource")
    func filters() throws {
        let rules = try Fixture.rules("""
            title: scanner
            name: scanner
            logsource: {category: webserver}
            detection:
                sel:
                    ua|contains: nikto
                condition: sel
            level: medium
            ---
            title: our own scanner
            logsource: {category: webserver}
            filter:
                rules: [scanner]
                ours:
                    ip|cidr: 192.0.2.0/24
                condition: not ours
            """)
        let rule = rules.detections[0]
        let web = LogSource.webserver
        #expect(rule.matches(Fixture.event(rules, source: web, ["ua": s("Nikto/2.5"), "ip": s("198.51.100.7")])))
        #expect(!rule.matches(Fixture.event(rules, source: web, ["ua": s("Nikto/2.5"), "ip": s("192.0.2.7")])))
        #expect(rule.filterTitles == ["our own scanner"])
    }

    @Test("logsource selects the streams a rule runs on")
    func logsource() throws {
        let rules = try Fixture.rules("""
            title: t
            logsource: {product: linux, service: sshd}
            detection: {sel: {outcome: failure}, condition: sel}
            level: low
            """)
        let sshd = Fixture.event(rules, source: .sshd, ["outcome": s("failure")])
        let web = Fixture.event(rules, source: .webserver, ["outcome": s("failure")])
        #expect(Fixture.alerts(rules, [sshd]).count == 1)
        #expect(Fixture.alerts(rules, [web]).isEmpty)
    }

    @Test("rules are indexed by the values they require; others always run")
    func index() throws {
        let rules = try Fixture.rules("""
            title: a
            detection: {sel: {action: LOGIN_FAILURE}, condition: sel}
            level: low
            ---
            title: b
            detection: {sel: {action: [LOGOUT, login_success]}, condition: sel}
            level: low
            ---
            title: c
            detection: {sel: {path|contains: admin}, condition: sel}
            level: low
            ---
            title: d
            detection: {sel: {action: LOGOUT}, other: {path: /x}, condition: sel and not other}
            level: low
            """)
        let index = RuleIndex(rules: rules, for: LogSource())
        #expect(index.always == [2])
        let table = try #require(index.byField.first?.rules)
        #expect(table["login_failure"] == [0])
        #expect(table["logout"] == [1, 3])
        #expect(table["login_success"] == [1])
    }
}
