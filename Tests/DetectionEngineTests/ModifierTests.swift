@testable import DetectionEngine
import SecurityModel
import Testing

/// Every value form and modifier of DETECTION.md, table-driven: one key/value in a selection, one
/// event value, and whether it matches.
@Suite("Sigma values and modifiers")
struct ModifierTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let key: String
        let value: String   // YAML for the rule value
        let field: FieldValue?
        let other: FieldValue?  // value of the field named 'other' (for fieldref)
        let expected: Bool
        init(_ key: String, _ value: String, _ field: FieldValue?, other: FieldValue? = nil, _ expected: Bool) {
            self.key = key; self.value = value; self.field = field; self.other = other; self.expected = expected
        }
        var testDescription: String { "\(key): \(value) vs \(field.map { "\($0)" } ?? "absent") -> \(expected)" }
    }

    static let cases: [Case] = [
        // Plain values: case-insensitive equality, wildcards, escapes.
        Case("f", "admin", s("admin"), true),
        Case("f", "admin", s("ADMIN"), true),
        Case("f", "admin", s("admins"), false),
        Case("f", "adm*", s("administrator"), true),
        Case("f", "'*min'", s("sysadmin"), true),
        Case("f", "a?min", s("admin"), true),
        Case("f", "a?min", s("amin"), false),
        Case("f", "a*d*n", s("aXXdYYn"), true),
        Case("f", "a*d*n", s("aXXdYY"), false),
        Case("f", "'a\\*b'", s("a*b"), true),
        Case("f", "'a\\*b'", s("aXb"), false),
        Case("f", "'a\\?b'", s("a?b"), true),
        Case("f", "'C:\\Windows'", s("c:\\windows"), true),
        Case("f", "'ÄRGER'", s("ärger"), true),
        Case("f", "''", s(""), true),
        Case("f", "''", s("x"), false),
        // Lists OR; null means absent or null.
        Case("f", "[a, b]", s("b"), true),
        Case("f", "[a, b]", s("c"), false),
        Case("f", "null", nil, true),
        Case("f", "null", .null, true),
        Case("f", "null", s(""), false),
        // Integers compare as numbers.
        Case("f", "404", .int(404), true),
        Case("f", "404", s("404"), true),
        Case("f", "404", .double(404), true),
        Case("f", "404", .int(4040), false),
        Case("f", "'404'", .int(404), true),
        Case("f", "4*", .int(404), true),
        // A list value in the event matches when any element does.
        Case("f", "b", .list([s("a"), s("b")]), true),
        // contains / startswith / endswith / all.
        Case("f|contains", "select", s("1 UNION SELECT 2"), true),
        Case("f|contains", "select", s("nothing"), false),
        // Word-at-a-time candidate search: matches at every offset around the 8-byte steps, in
        // either case, near misses before the real match, and values shorter than a word.
        Case("f|contains", "select", s("aaaaaaaSeLeCt"), true),
        Case("f|contains", "select", s("/index.php?id=1+union+sele+ct+selec+SELECT+x"), true),
        Case("f|contains", "select", s("/index.php?id=1+union+sele+ct+selec+SELEC"), false),
        Case("f|contains", "select", s("sselect"), true),
        Case("f|contains", "select", s("selec"), false),
        Case("f|contains", "etc/passwd", s("GET /../../../../../../etc/passwd HTTP/1.1"), true),
        Case("f|contains", "etc/passwd", s("GET /../../../../../../etc/passw HTTP/1.1"), false),
        Case("f|contains|cased", "Sel", s("sssssssssssssSel"), true),
        Case("f|contains|cased", "Sel", s("SSSSSSSSSSSSSSeL"), false),
        Case("f|contains", "'..\\'", s("a..\\b"), true),
        Case("f|startswith", "/admin", s("/admin/users"), true),
        Case("f|startswith", "/admin", s("/x/admin"), false),
        Case("f|endswith", ".php", s("/index.PHP"), true),
        Case("f|endswith", ".php", s("/index.php5"), false),
        Case("f|contains|all", "[union, select]", s("union all select"), true),
        Case("f|contains|all", "[union, select]", s("union all"), false),
        Case("f|contains", "[union, select]", s("union all"), true),
        // cased.
        Case("f|cased", "Admin", s("Admin"), true),
        Case("f|cased", "Admin", s("admin"), false),
        Case("f|contains|cased", "Sel", s("xSely"), true),
        Case("f|contains|cased", "Sel", s("xsely"), false),
        // re with flags.
        Case("f|re", "'^ab+c$'", s("abbbc"), true),
        Case("f|re", "'^ab+c$'", s("ABBC"), false),
        Case("f|re|i", "'^ab+c$'", s("ABBC"), true),
        Case("f|re", "'^b$'", s("a\nb"), false),
        Case("f|re|m", "'^b$'", s("a\nb"), true),
        Case("f|re", "'a.b'", s("a\nb"), false),
        Case("f|re|s", "'a.b'", s("a\nb"), true),
        // cidr, IPv4 and IPv6.
        Case("f|cidr", "10.0.0.0/8", s("10.1.2.3"), true),
        Case("f|cidr", "10.0.0.0/8", s("11.1.2.3"), false),
        Case("f|cidr", "'2001:db8::/32'", s("2001:db8:1::5"), true),
        Case("f|cidr", "'2001:db8::/32'", s("2001:db9::5"), false),
        Case("f|cidr", "10.0.0.0/8", s("not an ip"), false),
        // exists.
        Case("f|exists", "true", s("x"), true),
        Case("f|exists", "true", nil, false),
        Case("f|exists", "false", nil, true),
        Case("f|exists", "false", s("x"), false),
        // neq: none of the values.
        Case("f|neq", "200", .int(404), true),
        Case("f|neq", "200", .int(200), false),
        Case("f|neq", "[200, 304]", .int(304), false),
        Case("f|neq", "[200, 304]", .int(500), true),
        Case("f|neq", "200", nil, false),
        // Numeric comparisons.
        Case("f|gt", "10", .int(11), true),
        Case("f|gt", "10", .int(10), false),
        Case("f|gte", "10", .int(10), true),
        Case("f|lt", "1.5", .double(1.25), true),
        Case("f|lte", "10", s("10"), true),
        Case("f|lt", "10", s("abc"), false),
        // base64, base64offset, utf16.
        Case("f|base64", "secret", s("c2VjcmV0"), true),
        Case("f|base64|contains", "secret", s("xx c2VjcmV0 yy"), true),
        Case("f|base64offset|contains", "/bin/sh", s("ZWNobyAvYmluL3No"), true),   // "echo /bin/sh"
        Case("f|base64offset|contains", "/bin/sh", s("YSAvYmluL3No"), true),       // "a /bin/sh"
        Case("f|base64offset|contains", "/bin/sh", s("L2Jpbi9zaA=="), true),       // "/bin/sh"
        Case("f|base64offset|contains", "/bin/sh", s("L2Jpbi9iYXNo"), false),      // "/bin/bash"
        Case("f|utf16le|base64offset|contains", "ping", s("cABpAG4AZwA="), true),
        Case("f|wide|base64", "ab", s("YQBiAA=="), true),
        // windash.
        Case("f|windash|contains", "' -enc '", s("powershell /enc AAA"), true),
        Case("f|windash|contains", "' -enc '", s("powershell \u{2013}enc AAA"), true),
        Case("f|windash|contains", "' -enc '", s("powershell enc AAA"), false),
        // fieldref.
        Case("f|fieldref", "other", s("Alice"), other: s("alice"), true),
        Case("f|fieldref", "other", s("alice"), other: s("bob"), false),
        Case("f|fieldref|contains", "other", s("xaliceX"), other: s("alice"), true),
        Case("f|fieldref", "other", s("alice"), other: nil, false),
    ]

    @Test(arguments: cases)
    func matches(_ c: Case) throws {
        let rules = try Fixture.detection("""
                selection:
                    \(c.key): \(c.value)
                condition: selection
            """)
        var fields: [String: FieldValue] = [:]
        if let field = c.field { fields["f"] = field }
        if let other = c.other { fields["other"] = other }
        let event = Fixture.event(rules, source: LogSource(product: "test"), fields)
        let rule = try #require(rules.detections.first)
        #expect(rule.matches(event) == c.expected)
        #expect(rule.matches(Fixture.textAsBytes(event)) == c.expected, "with text held as bytes")
        // Through the engine (its rule index looks values up), with text as values and as bytes.
        #expect(Fixture.alerts(rules, [event]).count == (c.expected ? 1 : 0))
    }

    @Test("keywords search the raw line, OR-ed, case-insensitively")
    func keywords() throws {
        let rules = try Fixture.detection("""
                keywords:
                    - 'Failed password'
                    - 'segfault'
                condition: keywords
            """)
        #expect(rules.needsRawLine)
        let hit = Fixture.event(rules, source: LogSource(product: "test"), raw: "sshd[1]: failed PASSWORD for root", [:])
        let miss = Fixture.event(rules, source: LogSource(product: "test"), raw: "sshd[1]: Accepted password", [:])
        #expect(rules.detections[0].matches(hit))
        #expect(!rules.detections[0].matches(miss))
    }

    @Test("keywords under '|all' must all occur; other modifiers on keywords are refused")
    func allKeywords() throws {
        let rules = try Fixture.detection("""
                keywords:
                    '|all':
                        - 'Set-OabVirtualDirectory'
                        - 'ExternalUrl'
                condition: keywords
            """)
        #expect(rules.needsRawLine)
        let source = LogSource(product: "test")
        let both = Fixture.event(rules, source: source, raw: "set-oabvirtualdirectory -externalurl x", [:])
        let one = Fixture.event(rules, source: source, raw: "Set-OabVirtualDirectory -InternalUrl x", [:])
        #expect(rules.detections[0].matches(both))
        #expect(!rules.detections[0].matches(one))
        #expect(Fixture.alerts(rules, [both, one]).count == 1)
        let bad = Fixture.diagnostics("""
            title: t
            logsource: {product: test}
            detection:
                keywords:
                    '|contains': [a, b]
                condition: keywords
            level: low
            """)
        #expect(bad.count == 1)
        #expect(bad.first?.message.contains("keyword lists take only the 'all' modifier") == true)
        #expect(bad.first?.line == 5)
    }

    @Test("a map is an AND, a list of maps an OR")
    func mapsAndLists() throws {
        let rules = try Fixture.detection("""
                selection:
                    - action: LOGIN_FAILURE
                      ip_address|cidr: 10.0.0.0/8
                    - action: LOCKED
                condition: selection
            """)
        let rule = rules.detections[0]
        let src = LogSource(product: "test")
        #expect(rule.matches(Fixture.event(rules, source: src, ["action": s("LOGIN_FAILURE"), "ip_address": s("10.0.0.1")])))
        #expect(!rule.matches(Fixture.event(rules, source: src, ["action": s("LOGIN_FAILURE"), "ip_address": s("192.0.2.1")])))
        #expect(rule.matches(Fixture.event(rules, source: src, ["action": s("locked")])))
    }
}
