import SecurityModel

/// A Sigma string value compiled for matching: literal text with `*` (any run of characters) and
/// `?` (one character) wildcards, compared case-insensitively unless `cased`.
///
/// Patterns without inner wildcards become an equality, prefix, suffix or substring test over UTF-8
/// bytes; ASCII folds without allocating. Non-ASCII values are lowercased first (rare in logs).
public struct TextPattern: Sendable, Hashable, CustomStringConvertible {
    /// One piece of a pattern between `*`s.
    enum Token: Hashable, Sendable { case byte(UInt8), anyCharacter }

    enum Shape: Hashable, Sendable {
        case equals, prefix, suffix, contains, wildcard
    }

    /// The pattern as written in the rule (after modifiers), for messages.
    public let source: String
    let cased: Bool
    let shape: Shape
    /// Literal bytes for the simple shapes (lowercased unless cased).
    let literal: [UInt8]
    /// Segments between `*` for the general shape.
    let segments: [[Token]]
    let anchoredStart: Bool
    let anchoredEnd: Bool

    /// Compiles a Sigma value: `*` and `?` are wildcards, `\*`, `\?` and `\\` are literals, and any
    /// other backslash is itself.
    public init(sigma value: String, cased: Bool = false) {
        self.source = value
        self.cased = cased
        let text = cased ? value : value.lowercased()
        var segments: [[Token]] = [[]]
        var sawWildcard = false
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count,
               [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "\\")].contains(bytes[index + 1]) {
                segments[segments.count - 1].append(.byte(bytes[index + 1]))
                index += 2
                continue
            }
            if byte == UInt8(ascii: "*") {
                sawWildcard = true
                segments.append([])
            } else if byte == UInt8(ascii: "?") {
                sawWildcard = true
                segments[segments.count - 1].append(.anyCharacter)
            } else {
                segments[segments.count - 1].append(.byte(byte))
            }
            index += 1
        }
        anchoredStart = !(segments.first?.isEmpty ?? false) || segments.count == 1
        anchoredEnd = !(segments.last?.isEmpty ?? false) || segments.count == 1
        let inner = segments.filter { !$0.isEmpty }
        let hasQuestion = inner.contains { $0.contains(.anyCharacter) }
        func literalBytes(_ tokens: [Token]) -> [UInt8] {
            tokens.map { if case .byte(let b) = $0 { return b } else { return 0 } }
        }
        if !sawWildcard {
            shape = .equals; literal = literalBytes(segments[0])
        } else if !hasQuestion, inner.count <= 1 {
            let lit = inner.first.map(literalBytes) ?? []
            literal = lit
            switch (anchoredStart, anchoredEnd) {
            case (true, false): shape = .prefix
            case (false, true): shape = .suffix
            case (false, false): shape = .contains
            case (true, true): shape = .equals
            }
        } else {
            shape = .wildcard; literal = []
        }
        self.segments = segments
    }

    public var description: String { source }

    /// Whether `value` matches the whole pattern.
    public func matches(_ value: String) -> Bool {
        if !cased, value.utf8.contains(where: { $0 >= 0x80 }) {
            let lowered = value.lowercased()
            return Self.withBytes(lowered) { matchBytes($0, fold: false) }
        }
        return Self.withBytes(value) { matchBytes($0, fold: !cased) }
    }

    /// Whether `value` matches any of `patterns`, looking at its bytes once.
    static func matchesAny(_ patterns: [TextPattern], _ value: String) -> Bool {
        var ascii = true
        let direct = withBytes(value) { bytes -> Bool in
            ascii = isASCII(bytes)
            for index in patterns.indices where patterns[index].cased || ascii {
                if patterns[index].matchBytes(bytes, fold: !patterns[index].cased) { return true }
            }
            return false
        }
        if direct || ascii { return direct }
        let lowered = value.lowercased()
        return withBytes(lowered) { bytes in
            for index in patterns.indices where !patterns[index].cased {
                if patterns[index].matchBytes(bytes, fold: false) { return true }
            }
            return false
        }
    }

    /// Whether every byte is ASCII, eight at a time.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        var high: UInt64 = 0
        while index + 8 <= bytes.count {
            high |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < bytes.count { high |= UInt64(base[index]); index += 1 }
        return high & WordBytes.highs == 0
    }

    @inline(__always)
    static func withBytes<R>(_ value: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = value.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = value
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable(body)!
    }

    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// Matches UTF-8 `bytes`; with `fold`, ASCII upper case in the value compares as lower case.
    func matchBytes(_ bytes: UnsafeBufferPointer<UInt8>, fold: Bool) -> Bool {
        switch shape {
        case .equals:
            return bytes.count == literal.count && Self.equal(bytes, at: 0, literal, fold: fold)
        case .prefix:
            return bytes.count >= literal.count && Self.equal(bytes, at: 0, literal, fold: fold)
        case .suffix:
            return bytes.count >= literal.count && Self.equal(bytes, at: bytes.count - literal.count, literal, fold: fold)
        case .contains:
            return Self.find(literal, in: bytes, from: 0, fold: fold) != nil
        case .wildcard:
            return wildcardMatch(bytes, fold: fold)
        }
    }

    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ literal: [UInt8], fold: Bool) -> Bool {
        var i = 0
        let n = literal.count
        if fold {
            while i < n { if Self.fold(bytes[offset + i]) != literal[i] { return false }; i += 1 }
        } else {
            while i < n { if bytes[offset + i] != literal[i] { return false }; i += 1 }
        }
        return true
    }

    /// First offset ≥ `start` where `needle` occurs in `bytes`. Candidates for the needle's first
    /// byte (in either case when folding) are found eight bytes at a time.
    static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int, fold: Bool) -> Int? {
        let n = needle.count
        if n == 0 { return start <= bytes.count ? start : nil }
        guard bytes.count - start >= n, let base = bytes.baseAddress else { return nil }
        let first = needle[0]
        // With folding the needle is lower case; its first byte may appear upper case in the value.
        let other = fold && first &- 0x61 < 26 ? first & ~0x20 : first
        var i = start
        let last = bytes.count - n
        while i <= last {
            if i + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let hits = WordBytes.equal(word, first) | WordBytes.equal(word, other)
                if hits == 0 { i += 8; continue }
                // The lowest flagged byte is a real candidate; check it, then go on after it.
                i += hits.trailingZeroBitCount >> 3
                if i > last { return nil }
            } else {
                let byte = bytes[i]
                if byte != first && byte != other { i += 1; continue }
            }
            if Self.equal(bytes, at: i, needle, fold: fold) { return i }
            i += 1
        }
        return nil
    }

    /// Length in bytes of the tokens matched at `offset`, or nil.
    private static func matchSegment(_ tokens: [Token], _ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, fold: Bool) -> Int? {
        var pos = offset
        for token in tokens {
            guard pos < bytes.count else { return nil }
            switch token {
            case .byte(let expected):
                let b = fold ? Self.fold(bytes[pos]) : bytes[pos]
                if b != expected { return nil }
                pos += 1
            case .anyCharacter:
                pos += Self.scalarLength(bytes[pos])
                if pos > bytes.count { return nil }
            }
        }
        return pos - offset
    }

    @inline(__always)
    static func scalarLength(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    private func wildcardMatch(_ bytes: UnsafeBufferPointer<UInt8>, fold: Bool) -> Bool {
        // Segments: first anchored at 0 (unless empty), last anchored at the end (unless empty),
        // middle ones leftmost-first (greedy leftmost is correct for `*` separated segments).
        var pos = 0
        let count = segments.count
        for (index, segment) in segments.enumerated() {
            let isFirst = index == 0, isLast = index == count - 1
            if segment.isEmpty { continue }
            if isFirst {
                guard let length = Self.matchSegment(segment, bytes, at: 0, fold: fold) else { return false }
                pos = length
                if isLast { return pos == bytes.count }
            } else if isLast {
                // Try the end: the last segment must end exactly at the end of the value.
                var start = bytes.count
                while start >= pos {
                    if let length = Self.matchSegment(segment, bytes, at: start, fold: fold), start + length == bytes.count {
                        return true
                    }
                    start -= 1
                }
                return false
            } else {
                var start = pos
                var found = false
                while start < bytes.count {
                    if let length = Self.matchSegment(segment, bytes, at: start, fold: fold) {
                        pos = start + length; found = true; break
                    }
                    start += 1
                }
                if !found { return false }
            }
        }
        return true
    }
}
