@testable import DetectionEngine
import Testing

/// Many patterns over one field tested in one pass must give what testing each pattern gives.
@Suite("Text pattern sets")
struct TextPatternSetTests {
    static let pieces = ["union", " select", "'", "or", "1=1", "%27", "..", "/", "%2f", "é", "É", "x", "UNION", "Sel", "--", "a"]

    @Test("a set matches exactly when one of its patterns does", arguments: [1, 2, 3, 4, 5])
    func agreesWithEachPattern(seed: UInt64) {
        var random = SplitMix(seed: seed)
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        for _ in 0..<300 {
            // Patterns: mostly contains (the pair table), with short, anchored, wildcard and cased ones.
            var patterns: [TextPattern] = []
            for _ in 0..<(1 + random.next() % 12) {
                let literal = (0..<(1 + random.next() % 3)).map { _ in pick(Self.pieces) }.joined()
                let sigma: String
                switch random.next() % 8 {
                case 0: sigma = literal + "*"
                case 1: sigma = "*" + literal
                case 2: sigma = literal
                case 3: sigma = "*" + literal + "*?*"
                case 4: sigma = "*" + String(literal.prefix(1)) + "*"
                default: sigma = "*" + literal + "*"
                }
                patterns.append(TextPattern(sigma: sigma, cased: random.next() % 10 == 0))
            }
            let set = TextPatternSet(patterns)
            for _ in 0..<20 {
                let text = (0..<(random.next() % 8)).map { _ in pick(Self.pieces) }.joined()
                let expected = patterns.contains { $0.matches(text) }
                #expect(set.matches(text) == expected, "\(patterns.map(\.source)) on '\(text)'")
            }
        }
    }

    @Test("many equalities (an indicator list) give the same answers as each pattern", arguments: [6, 7, 8])
    func equalities(seed: UInt64) {
        var random = SplitMix(seed: seed)
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        for _ in 0..<200 {
            var patterns: [TextPattern] = []
            for _ in 0..<(TextPatternSet.equalityTableMinimum + Int(random.next() % 20)) {
                let literal = (0..<(1 + random.next() % 2)).map { _ in pick(Self.pieces) }.joined()
                switch random.next() % 10 {
                case 0: patterns.append(TextPattern(sigma: literal, cased: true))
                case 1: patterns.append(TextPattern(sigma: "*" + literal + "*"))
                default: patterns.append(TextPattern(sigma: literal))
                }
            }
            let set = TextPatternSet(patterns)
            for _ in 0..<30 {
                let text = (0..<(random.next() % 3)).map { _ in pick(Self.pieces) }.joined()
                let expected = patterns.contains { $0.matches(text) }
                #expect(set.matches(text) == expected, "\(patterns.map(\.source)) on '\(text)'")
            }
        }
    }

    @Test("literals at the very start and end, overlapping pairs, and case")
    func edges() {
        let set = TextPatternSet(["*union select*", "*sleep(*", "*../*", "*%2e%2e*", "*aab*"].map { TextPattern(sigma: $0) })
        #expect(set.matches("UNION SELECT 1"))
        #expect(set.matches("id=1 union select"))
        #expect(set.matches("x=SLEEP(5)"))
        #expect(set.matches("../"))
        #expect(set.matches("%2E%2E"))
        #expect(set.matches("aaab"))          // the pair "aa" starts twice; the second start matches
        #expect(!set.matches("union selec"))
        #expect(!set.matches("sleep"))
        #expect(!set.matches(".%2e"))
        #expect(!set.matches(""))
        #expect(!set.matches("a"))
    }
}
