import SecurityModel

/// The values of one `field|modifiers: [a, b, c]` entry, any of which may match: what web rules
/// are made of (`cs-uri-query|contains:` with twenty SQL fragments).
///
/// The case-insensitive `contains` literals of two bytes or more are found in one pass over the
/// text: a table of the byte pairs they start with marks where one may begin, and only there are
/// the literals with that pair compared. Many case-insensitive equalities (an indicator list of
/// thousands of addresses) are one hash lookup. Other patterns are tested one by one. The result
/// is the same as testing each pattern in turn (``TextPattern/matchesAny(_:_:)``).
///
/// A class, so that a rule's test holds it by one reference: evaluating the test then retains one
/// object instead of each of its tables.
final class TextPatternSet: Sendable {
    /// All the patterns, as given.
    let patterns: [TextPattern]
    /// The patterns the pair table does not cover.
    private let others: [TextPattern]
    /// Lower-case literals covered by the pair table.
    private let literals: [[UInt8]]
    /// A bit per byte pair (ASCII folded to lower case) that begins a literal.
    private let pairBits: [UInt64]
    /// Pair -> indices into `literals`.
    private let byPair: [UInt16: [Int]]
    /// Lower-case literals of the case-insensitive equalities, when there are many.
    private let equalities: Set<[UInt8]>
    /// Fewer equalities than this are compared one by one.
    static let equalityTableMinimum = 8

    init(_ patterns: [TextPattern]) {
        self.patterns = patterns
        let equalities = patterns.filter { $0.shape == .equals && !$0.cased }
        let hashed = equalities.count >= Self.equalityTableMinimum
        self.equalities = hashed ? Set(equalities.map(\.literal)) : []
        let patterns = hashed ? patterns.filter { !($0.shape == .equals && !$0.cased) } : patterns
        var others: [TextPattern] = [], literals: [[UInt8]] = []
        var pairBits = Array(repeating: UInt64(0), count: 1024)
        var byPair: [UInt16: [Int]] = [:]
        for pattern in patterns {
            guard pattern.shape == .contains, !pattern.cased, pattern.literal.count >= 2 else {
                others.append(pattern)
                continue
            }
            let pair = Self.pair(pattern.literal[0], pattern.literal[1])
            pairBits[Int(pair) >> 6] |= 1 << UInt64(pair & 63)
            byPair[pair, default: []].append(literals.count)
            literals.append(pattern.literal)
        }
        // With few literals, one scan per literal is as fast as the pair table.
        if literals.count < 4 {
            self.others = patterns
            self.literals = []
            self.byPair = [:]
            self.pairBits = []
        } else {
            self.others = others
            self.literals = literals
            self.byPair = byPair
            self.pairBits = pairBits
        }
    }

    @inline(__always)
    private static func pair(_ first: UInt8, _ second: UInt8) -> UInt16 {
        UInt16(TextPattern.fold(first)) << 8 | UInt16(TextPattern.fold(second))
    }

    /// Whether `value` matches any of the patterns.
    func matches(_ value: String) -> Bool {
        if !equalities.isEmpty, isEquality(value) { return true }
        if !literals.isEmpty {
            var ascii = true
            let found = TextPattern.withBytes(value) { bytes -> Bool in
                ascii = TextPattern.isASCII(bytes)
                return ascii && containsLiteral(bytes)
            }
            if found { return true }
            if !ascii {
                // Non-ASCII text is lowercased as a whole, as single patterns do.
                if TextPattern.withBytes(value.lowercased(), containsLiteral) { return true }
            }
        }
        return others.isEmpty ? false : TextPattern.matchesAny(others, value)
    }

    /// Whether `value`, lowercased, is one of the hashed equalities.
    private func isEquality(_ value: String) -> Bool {
        let key = TextPattern.withBytes(value) { bytes -> [UInt8]? in
            TextPattern.isASCII(bytes) ? bytes.map(TextPattern.fold) : nil
        }
        return equalities.contains(key ?? Array(value.lowercased().utf8))
    }

    /// Whether one of the literals occurs in `bytes` (ASCII compared case-insensitively).
    private func containsLiteral(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 2 else { return false }
        return pairBits.withUnsafeBufferPointer { bits in
            var previous = bytes[0]
            for index in 1..<bytes.count {
                let current = bytes[index]
                let pair = Self.pair(previous, current)
                previous = current
                guard bits[Int(pair) >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
                let start = index - 1
                for candidate in byPair[pair] ?? [] {
                    let literal = literals[candidate]
                    if start + literal.count <= bytes.count, TextPattern.equal(bytes, at: start, literal, fold: true) { return true }
                }
            }
            return false
        }
    }
}
