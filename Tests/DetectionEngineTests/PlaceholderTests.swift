@testable import DetectionEngine
import SecurityModel
import Testing

/// Sigma's `expand` modifier against lists an administrator keeps (``PlaceholderTable``).
@Suite("Placeholders (expand)")
struct PlaceholderTests {
    static let table = PlaceholderTable([
        "bad_ips": ["203.0.113.7", "198.51.100.0/24", "2001:db8:bad::/48"],
        "bad_domains": ["evil.example", "*.tracker.example"],
        "dirs": ["tmp", "dev/shm"],
        "empty": [],
    ])

    static func rules(_ selection: String, table: PlaceholderTable = table) throws -> RuleSet {
        let yaml = """
            title: t
            id: R
            logsource:
                product: test
            detection:
                selection:
                    \(selection)
                condition: selection
            level: high
            """
        let result = RuleLoader.load([RuleSource(path: "test.yml", text: yaml)], placeholders: table)
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result.ruleSet
    }

    static func matches(_ rules: RuleSet, _ value: String?) throws -> Bool {
        let event = Fixture.event(rules, source: LogSource(product: "test"), value.map { ["f": .string($0)] } ?? [:])
        let rule = try #require(rules.detections.first)
        let direct = rule.matches(event)
        #expect(rule.matches(Fixture.textAsBytes(event)) == direct, "text held as bytes")
        #expect(Fixture.alerts(rules, [event]).count == (direct ? 1 : 0), "through the engine's index")
        return direct
    }

    @Test("a whole-value placeholder matches its entries: addresses exactly, networks by CIDR")
    func addressesAndNetworks() throws {
        let rules = try Self.rules("f|expand: '%bad_ips%'")
        #expect(try Self.matches(rules, "203.0.113.7"))
        #expect(try !Self.matches(rules, "203.0.113.8"))
        #expect(try Self.matches(rules, "198.51.100.200"))
        #expect(try !Self.matches(rules, "198.51.101.1"))
        #expect(try Self.matches(rules, "2001:db8:bad::1"))
        #expect(try !Self.matches(rules, "2001:db8:bae::1"))
        #expect(try !Self.matches(rules, nil))
        #expect(rules.placeholders == ["bad_ips": ["R"]])
    }

    @Test("entries are Sigma strings: case-insensitive, with wildcards")
    func wildcards() throws {
        let rules = try Self.rules("f|expand: '%bad_domains%'")
        #expect(try Self.matches(rules, "EVIL.example"))
        #expect(try Self.matches(rules, "cdn.tracker.example"))
        #expect(try !Self.matches(rules, "notevil.example"))
    }

    @Test("a placeholder inside a value expands in place, and other modifiers apply after")
    func embedded() throws {
        let rules = try Self.rules("f|expand|startswith: '/%dirs%/'")
        #expect(try Self.matches(rules, "/tmp/x"))
        #expect(try Self.matches(rules, "/dev/shm/.hidden/miner"))
        #expect(try !Self.matches(rules, "/usr/bin/tmp/x"))
        // A network entry inside a longer value is text, never a CIDR test.
        let contains = try Self.rules("f|expand|contains: '%bad_ips%'")
        #expect(try Self.matches(contains, "to 203.0.113.7:443"))
        #expect(try !Self.matches(contains, "198.51.100.9"))
    }

    @Test("an empty or missing list matches nothing, and everything under neq")
    func emptyLists() throws {
        for name in ["empty", "undefined"] {
            let rules = try Self.rules("f|expand: '%\(name)%'")
            #expect(try !Self.matches(rules, "anything"))
            #expect(try !Self.matches(rules, ""))
            #expect(rules.placeholders[name] == ["R"])
            let negated = try Self.rules("f|expand|neq: '%\(name)%'")
            #expect(try Self.matches(negated, "anything"))
        }
        let negated = try Self.rules("f|expand|neq: '%dirs%'")
        #expect(try !Self.matches(negated, "TMP"))
        #expect(try Self.matches(negated, "var"))
    }

    @Test("two placeholders in one value give every combination")
    func combinations() throws {
        let table = PlaceholderTable(["a": ["x", "y"], "b": ["1", "2", "3"]])
        #expect(try table.expand("%a%-%b%") == ["x-1", "x-2", "x-3", "y-1", "y-2", "y-3"])
        #expect(try table.expand("100%") == ["100%"])
        #expect(try table.expand("%not a name%") == ["%not a name%"])
        let big = PlaceholderTable(["n": (0..<1_001).map(String.init)])
        #expect(throws: PlaceholderError.self) { try big.expand("%n%%n%") }
        let result = RuleLoader.load([RuleSource(path: "big.yml", text: """
            title: t
            logsource: {product: test}
            detection:
                selection:
                    f|expand: '%n%.%n%'
                condition: selection
            """)], placeholders: big)
        let error = try #require(result.errors.first)
        #expect(error.line == 5)
        #expect(error.message.contains("expands to more than 1000000 values"))
    }

    @Test("bad uses of expand are refused with the line and the reason")
    func refused() throws {
        for (selection, message) in [
            ("f|expand: plain", "has no placeholder"),
            ("f|expand|re: '%dirs%'", "works with text modifiers"),
            ("f|expand|cidr: '%bad_ips%'", "works with text modifiers"),
        ] {
            let result = RuleLoader.load([RuleSource(path: "bad.yml", text: """
                title: t
                logsource: {product: test}
                detection:
                    selection:
                        \(selection)
                    condition: selection
                """)], placeholders: Self.table)
            let error = try #require(result.errors.first, "\(selection)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.line == 5)
        }
    }

    @Test("a changed list changes the rule's fingerprint; an unrelated one does not")
    func fingerprints() throws {
        let before = try Self.rules("f|expand: '%bad_ips%'")
        var lists = Self.table.lists
        lists["bad_domains"] = ["other.example"]
        let unrelated = try Self.rules("f|expand: '%bad_ips%'", table: PlaceholderTable(lists))
        lists["bad_ips"] = ["192.0.2.1"]
        let changed = try Self.rules("f|expand: '%bad_ips%'", table: PlaceholderTable(lists))
        #expect(before.stateFingerprints == unrelated.stateFingerprints)
        #expect(before.stateFingerprints != changed.stateFingerprints)
    }

    @Test("filters expand too: an allow-list keeps known hosts quiet")
    func filters() throws {
        let result = RuleLoader.load([RuleSource(path: "f.yml", text: """
            title: t
            id: R
            logsource: {product: test}
            detection:
                selection:
                    f|startswith: '10.'
                condition: selection
            ---
            title: allowed
            id: F
            logsource: {product: test}
            filter:
                rules: [R]
                known:
                    f|expand: '%allowed%'
                condition: not known
            """)], placeholders: PlaceholderTable(["allowed": ["10.0.0.1"]]))
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(try Self.matches(result.ruleSet, "10.0.0.2"))
        #expect(try !Self.matches(result.ruleSet, "10.0.0.1"))
        #expect(result.ruleSet.placeholders == ["allowed": ["F"]])
    }

    @Test("placeholder files: a mapping of names to lists, with clear errors")
    func files() throws {
        let table = try PlaceholderTable.parse(yaml: """
            # indicators
            bad_ips: [203.0.113.7, 198.51.100.0/24]
            one: single
            none:
            """)
        #expect(table["bad_ips"] == ["203.0.113.7", "198.51.100.0/24"])
        #expect(table["one"] == ["single"])
        #expect(table["none"] == [])
        #expect(try PlaceholderTable.parse(yaml: "") == PlaceholderTable())
        for (text, message) in [("- a\n- b", "line 1: expected a mapping"),
                                ("'bad name': [x]", "'bad name' is not a placeholder name"),
                                ("ok:\n  - {a: b}", "line 2: the values of 'ok' must be strings"),
                                ("a: [", "not valid YAML")] {
            #expect {
                try PlaceholderTable.parse(yaml: text)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}
