@testable import DetectionEngine
import SecurityModel
import Testing

/// The literal screen (one automaton pass per text for every rule's keywords and values) must
/// change nothing but speed: the same rules match, in the same order, as testing each rule.
@Suite("Rule screen")
struct RuleScreenTests {
    /// Text pieces: SQL and path fragments, case variants, and non-ASCII letters whose lower case
    /// differs in bytes (the Kelvin sign lowercases to ASCII `k`, `İ` to `i` and a combining dot).
    static let pieces = ["union", " select", "'", "or", "1=1", "%27", "..", "/", "x", "UNION", "Sel", "--", "a", "ab",
                         "é", "É", "\u{212A}", "K", "k", "İ", "i", "*", "?", "get", "GET"]

    @Test("the automaton finds exactly the literals a search for each one finds", arguments: [1, 2, 3])
    func automatonAgreesWithEachLiteral(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let ascii = Self.pieces.filter { $0.utf8.allSatisfy { $0 < 0x80 } }
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        for _ in 0..<200 {
            let literals: [[UInt8]] = (0..<(1 + random.next() % 20)).map { _ in
                Array((0..<(1 + random.next() % 3)).map { _ in pick(ascii) }.joined().utf8)
            }
            let automaton = LiteralAutomaton(literals.enumerated().map { ($0.element, Int32($0.offset)) })
            for _ in 0..<20 {
                let text = Array((0..<(random.next() % 10)).map { _ in pick(Self.pieces) }.joined().utf8)
                var found = Set<Int32>()
                text.withUnsafeBufferPointer { bytes in automaton.scan(bytes) { found.insert($0) } }
                let folded = text.map(LiteralAutomaton.fold)
                let expected = Set(literals.indices.filter { index in
                    let literal = literals[index].map(LiteralAutomaton.fold)
                    return folded.count >= literal.count
                        && (0...(folded.count - literal.count)).contains { Array(folded[$0..<($0 + literal.count)]) == literal }
                }.map(Int32.init))
                #expect(found == expected, "\(literals.map { String(decoding: $0, as: UTF8.self) }) in '\(String(decoding: text, as: UTF8.self))'")
            }
        }
    }

    @Test("the screened index matches what testing every rule matches, in the same order", arguments: [1, 2, 3, 4])
    func screenedIndexAgreesWithEachRule(seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        func literal() -> String { (0..<(1 + random.next() % 3)).map { _ in pick(Self.pieces) }.joined() }
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        func values(_ count: UInt64) -> String { "[" + (0..<(1 + random.next() % count)).map { _ in quoted(literal()) }.joined(separator: ", ") + "]" }
        for _ in 0..<25 {
            // Rules over keywords, `contains`/`startswith`/`endswith`/plain/wildcard lists, cased
            // ones, conditions with and/or/not and `1 of`, and some indexed by a required method.
            var documents: [String] = []
            for number in 0..<(2 + random.next() % 10) {
                let modifier = pick(["|contains", "|startswith", "|endswith", "", "|contains|cased", "|contains|all"])
                let field = pick(["path", "agent"])
                var detection = "    sel_a: {\(field)\(modifier): \(values(6))}\n"
                detection += "    sel_b: {\(pick(["path", "agent"]))|contains: \(values(3)), \(pick(["path", "agent"])): \(quoted("*" + literal() + "*?*"))}\n"
                detection += "    keywords: \(values(8))\n"
                detection += "    method: {method: \(pick(["GET", "POST"]))}\n"
                detection += "    filter: {agent|contains: \(values(2))}\n"
                let condition = pick(["sel_a", "keywords", "sel_a and keywords", "sel_a or keywords", "1 of sel_*",
                                      "method and keywords", "method and sel_a and not filter", "keywords and not filter",
                                      "all of sel_*", "method and (sel_b or keywords)", "not filter", "method or sel_a"])
                documents.append("title: r\(number)\ndetection:\n\(detection)    condition: \(condition)\nlevel: low\n")
            }
            let rules = try Fixture.rules(documents.joined(separator: "---\n"))
            let screened = RuleIndex(rules: rules, for: LogSource())
            let plain = RuleIndex(rules: rules, for: LogSource(), maxScreenBytes: 0)
            #expect(plain.screen == nil)
            for _ in 0..<40 {
                var fields: [String: FieldValue] = [:]
                for name in ["path", "agent", "method"] where random.next() % 5 != 0 {
                    let text = (0..<(random.next() % 6)).map { _ in pick(Self.pieces) }.joined()
                    switch random.next() % 8 {
                    case 0: fields[name] = .list([s(text), s(literal()), .list([s(literal()), s(literal())])])
                    case 1: fields[name] = .int(Int64(random.next() % 100))
                    case 2: fields[name] = .null
                    default: fields[name] = s(text)
                    }
                }
                let raw = fields.values.compactMap(\.text).joined(separator: " ") + " " + literal()
                let event = Fixture.event(rules, raw: raw, fields)
                for record in [event, Fixture.textAsBytes(event)] {
                    var got: [Int] = [], reference: [Int] = []
                    screened.forEachMatch(record) { got.append($0) }
                    plain.forEachMatch(record) { reference.append($0) }
                    let each = rules.detections.indices.filter { rules.detections[$0].matches(record) }
                    #expect(got == reference, "\(documents) on \(fields) raw '\(raw)'")
                    #expect(Set(got) == Set(each), "\(documents) on \(fields) raw '\(raw)'")
                }
            }
        }
    }

    @Test("a rule indexed by a common value is screened by its keywords; one without literals is not")
    func whatIsScreened() throws {
        let rules = try Fixture.rules("""
            title: keywords behind a method
            detection: {method: {method: GET}, kw: ['=<script>', 'document.cookie'], condition: method and kw}
            level: low
            ---
            title: only a method
            detection: {method: {method: GET}, condition: method}
            level: low
            ---
            title: a regular expression
            detection: {sel: {path|re: 'a+b'}, condition: sel}
            level: low
            ---
            title: not
            detection: {sel: {path|contains: admin}, condition: not sel}
            level: low
            """)
        let index = RuleIndex(rules: rules, for: LogSource())
        let screen = try #require(index.screen)
        #expect(screen.screenedCount == 1)
        #expect(screen.passes.map(\.target) == [.raw])
        func matches(_ raw: String) -> [Int] {
            var got: [Int] = []
            index.forEachMatch(Fixture.event(rules, raw: raw, ["method": s("GET"), "path": s("/x")])) { got.append($0) }
            return got
        }
        #expect(matches("GET /?q=<SCRIPT>") == [3, 0, 1])
        #expect(matches("GET /?q=<b>") == [3, 1])
    }

    @Test("thousands of rules and a keyword list of thousands: past the memory limit rules go unscreened, counted, with the same matches")
    func limit() throws {
        var documents: [String] = []
        for number in 0..<1500 {
            documents.append("title: r\(number)\ndetection: {kw: ['probe-\(number)-a', 'probe-\(number)-b'], condition: kw}\nlevel: low\n")
        }
        let keywords = (0..<5000).map { "'needle-\($0)'" }.joined(separator: ", ")
        documents.append("title: many\ndetection: {kw: [\(keywords)], condition: kw}\nlevel: low\n")
        let rules = try Fixture.rules(documents.joined(separator: "---\n"))
        let full = RuleIndex(rules: rules, for: LogSource())
        let small = RuleIndex(rules: rules, for: LogSource(), maxScreenBytes: 64 << 10)
        #expect(full.unscreenedOverLimit == 0)
        #expect(full.screen?.screenedCount == 1501)
        #expect(small.unscreenedOverLimit > 0)
        #expect((small.screen?.screenedCount ?? 0) + small.unscreenedOverLimit == 1501)
        for raw in ["GET /probe-1499-b", "GET /PROBE-7-A and needle-4999", "GET /nothing", "needle-0"] {
            let event = Fixture.event(rules, raw: raw, [:])
            var a: [Int] = [], b: [Int] = []
            full.forEachMatch(event) { a.append($0) }
            small.forEachMatch(event) { b.append($0) }
            #expect(a == b, "\(raw)")
            #expect(a == rules.detections.indices.filter { rules.detections[$0].matches(event) })
        }
        var engine = DetectionEngine(rules: rules, limits: .init(maxGroupsPerCorrelation: 10, maxScreenBytes: 64 << 10))
        engine.process(Fixture.event(rules, raw: "needle-4999", [:]))
        engine.finish()
        #expect(engine.statistics.unscreenedRules == small.unscreenedOverLimit)
        #expect(engine.statistics.alerts == 1)
    }
}
