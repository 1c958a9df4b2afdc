import SecurityModel

/// Literals one of which every event matching a condition contains (ASCII letters in any case):
/// the screen that keeps a rule without required field values from being tested on every event.
///
/// Derived from the condition conservatively: `a and b` needs what `a` or `b` needs (the better of
/// the two), `a or b` needs what either needs, and anything a literal cannot vouch for (`not`,
/// regular expressions, numbers, `exists`, field references, a pattern that is all wildcards) needs
/// nothing, which leaves the rule unscreened. A literal is the longest run of ASCII bytes between a
/// pattern's wildcards, folded to lower case, searched in the field's text (or the raw line, for
/// keywords); text with non-ASCII bytes is searched lowercased, as ``TextPattern`` matches it.
struct LiteralNeed: Sendable, Equatable {
    /// Where a literal is searched: the raw line or a field's value.
    enum Target: Hashable, Sendable, Comparable {
        case raw
        case slot(Int)
    }

    struct Item: Hashable, Sendable {
        let target: Target
        let bytes: [UInt8]
    }

    private(set) var items: [Item]

    init(_ items: [Item]) { self.items = items }

    /// The shortest literal's length: how selective the screen is (one byte passes most text).
    var weakest: Int { items.map(\.bytes.count).min() ?? 0 }

    /// What either of two conditions needs (`a or b`).
    func union(_ other: LiteralNeed) -> LiteralNeed {
        var seen = Set(items)
        var merged = items
        for item in other.items where seen.insert(item).inserted { merged.append(item) }
        return LiteralNeed(merged)
    }

    /// The more selective of two needs (`a and b` may be screened by either): longer literals
    /// first (up to four bytes, past which text rarely matches by chance), then fewer of them.
    static func better(_ a: LiteralNeed?, _ b: LiteralNeed?) -> LiteralNeed? {
        guard let a else { return b }
        guard let b else { return a }
        let (x, y) = (min(a.weakest, 4), min(b.weakest, 4))
        if x != y { return x > y ? a : b }
        return a.items.count <= b.items.count ? a : b
    }

    /// What each of `needs` asks, any of which may hold (`nil` if one of them needs nothing).
    static func any<S: Sequence>(_ needs: S) -> LiteralNeed? where S.Element == LiteralNeed? {
        var result: LiteralNeed?
        for need in needs {
            guard let need else { return nil }
            result = result.map { $0.union(need) } ?? need
        }
        return result
    }
}

extension ConditionExpression {
    /// The literals one of which every event satisfying the condition contains, or nil.
    /// - Parameter excluded: a field whose tests are not to be used (one the rule index already
    ///   looks up by value).
    func literalNeed(_ searches: [SearchIdentifier], excluding excluded: Int? = nil) -> LiteralNeed? {
        switch self {
        case .search(let index): return searches[index].literalNeed(excluding: excluded)
        case .and(let parts): return parts.reduce(LiteralNeed?.none) { LiteralNeed.better($0, $1.literalNeed(searches, excluding: excluded)) }
        case .or(let parts): return parts.isEmpty ? nil : LiteralNeed.any(parts.lazy.map { $0.literalNeed(searches, excluding: excluded) })
        case .not, .constant: return nil
        }
    }
}

extension SearchIdentifier {
    func literalNeed(excluding excluded: Int?) -> LiteralNeed? {
        switch body {
        case .keywords(let patterns, let all):
            guard !patterns.isEmpty else { return nil }
            let needs = patterns.lazy.map { pattern in pattern.screenLiteral.map { LiteralNeed([.init(target: .raw, bytes: $0)]) } }
            return all ? needs.reduce(LiteralNeed?.none, LiteralNeed.better) : LiteralNeed.any(needs)
        case .fields(let alternatives):
            guard !alternatives.isEmpty else { return nil }
            return LiteralNeed.any(alternatives.lazy.map { tests in
                tests.reduce(LiteralNeed?.none) { need, test in
                    test.slot == excluded ? need : LiteralNeed.better(need, test.test.literalNeed(slot: test.slot))
                }
            })
        }
    }
}

extension ValueTest {
    /// The literals one of which a value passing the test contains (in field `slot`), or nil.
    func literalNeed(slot: Int) -> LiteralNeed? {
        switch self {
        case .text(let pattern):
            return pattern.screenLiteral.map { LiteralNeed([.init(target: .slot(slot), bytes: $0)]) }
        case .anyText(let set):
            return LiteralNeed.any(set.patterns.lazy.map { ValueTest.text($0).literalNeed(slot: slot) })
        case .anyOf(let tests):
            return tests.isEmpty ? nil : LiteralNeed.any(tests.lazy.map { $0.literalNeed(slot: slot) })
        case .allOf(let tests):
            return tests.reduce(LiteralNeed?.none) { LiteralNeed.better($0, $1.literalNeed(slot: slot)) }
        case .integer, .null, .regex, .cidr, .compare, .exists, .fieldRef, .not:
            return nil
        }
    }
}

extension TextPattern {
    /// The longest run of ASCII bytes between wildcards, folded to lower case: text matching the
    /// pattern contains it (when searched as ``LiteralNeed`` says). Nil for a pattern without one.
    var screenLiteral: [UInt8]? {
        var best: [UInt8] = []
        var run: [UInt8] = []
        func close() {
            if run.count > best.count { best = run }
            run.removeAll(keepingCapacity: true)
        }
        for segment in segments {
            for token in segment {
                if case .byte(let byte) = token, byte < 0x80 {
                    run.append(LiteralAutomaton.fold(byte))
                } else {
                    close()
                }
            }
            close()
        }
        return best.isEmpty ? nil : best
    }
}
