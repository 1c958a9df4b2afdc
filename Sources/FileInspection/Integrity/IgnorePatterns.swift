/// Paths file integrity monitoring leaves alone, as glob patterns: `*` within one path segment,
/// `**` across segments, `?` one byte. A pattern without `/` matches the last segment anywhere
/// (`*.swp`); one with `/` matches the whole path (`/var/log/**`). A matched directory is not
/// descended into.
public struct IgnorePatterns: Sendable, Equatable {
    public let patterns: [String]
    private let compiled: [(bytes: [UInt8], basename: Bool, shape: Shape)]

    /// The common shapes, matched without the general glob: a literal (`/etc/mtab`), a star and a
    /// literal (`*.swp`), a literal and `/**` (`/var/log/**`).
    enum Shape: Equatable { case literal, starSuffix([UInt8]), treePrefix([UInt8]), general }

    static func shape(_ bytes: [UInt8]) -> Shape {
        let wild: (UInt8) -> Bool = { $0 == 0x2a || $0 == 0x3f }
        if !bytes.contains(where: wild) { return .literal }
        if bytes.first == 0x2a, !bytes.dropFirst().contains(where: wild), !bytes.contains(0x2f) { return .starSuffix(Array(bytes.dropFirst())) }
        if bytes.count >= 3, bytes.suffix(3) == [0x2f, 0x2a, 0x2a], !bytes.dropLast(3).contains(where: wild) { return .treePrefix(Array(bytes.dropLast(2))) }
        return .general
    }

    /// Patterns one per entry; blank entries and `#` comments are skipped. Throws on patterns
    /// that cannot be meant (`***`), naming them.
    public init(_ patterns: [String]) throws(FileScanError) {
        var kept: [String] = []
        var compiled: [(bytes: [UInt8], basename: Bool, shape: Shape)] = []
        for raw in patterns {
            let pattern = raw.trimmingASCIIWhitespace()
            if pattern.isEmpty || pattern.hasPrefix("#") { continue }
            if pattern.contains("***") {
                throw FileScanError(path: pattern, reason: "ignore pattern with '***'; use '**' for any depth")
            }
            kept.append(pattern)
            var bytes = Array(pattern.utf8)
            if bytes.count > 1 && bytes.last == 0x2f { bytes.removeLast() }
            compiled.append((bytes, !bytes.contains(0x2f), Self.shape(bytes)))
        }
        self.patterns = kept
        self.compiled = compiled
    }

    public static let none = try! IgnorePatterns([])

    public static func == (lhs: IgnorePatterns, rhs: IgnorePatterns) -> Bool { lhs.patterns == rhs.patterns }

    /// Whether `path` (absolute, no trailing slash) is ignored.
    public func matches(_ path: String) -> Bool {
        guard !compiled.isEmpty else { return false }
        let bytes = Array(path.utf8)
        let base = bytes.lastIndex(of: 0x2f).map { Array(bytes[($0 + 1)...]) } ?? bytes
        return compiled.contains { pattern in
            let text = pattern.basename ? base : bytes
            switch pattern.shape {
            case .literal: return text == pattern.bytes
            case .starSuffix(let suffix):
                return text.count >= suffix.count && text.suffix(suffix.count).elementsEqual(suffix) && !text.dropLast(suffix.count).contains(0x2f)
            case .treePrefix(let prefix):
                // `/var/log/**` matches what is under /var/log, not /var/log itself.
                return text.count > prefix.count && text.prefix(prefix.count).elementsEqual(prefix)
            case .general: return Self.glob(pattern.bytes, text)
            }
        }
    }

    /// Whether `path` or a directory above it is ignored (a walk never enters an ignored
    /// directory, so what is under it is ignored too).
    public func covers(_ path: String) -> Bool {
        guard !compiled.isEmpty else { return false }
        var current = Substring(path)
        while !current.isEmpty {
            if matches(String(current)) { return true }
            guard let slash = current.lastIndex(of: "/"), slash != current.startIndex else { return false }
            current = current[..<slash]
        }
        return false
    }

    /// Glob match of all of `text` against all of `pattern`.
    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var memo = [Int: Bool]()
        func match(_ p: Int, _ t: Int) -> Bool {
            let key = p &* (text.count + 1) &+ t
            if let known = memo[key] { return known }
            let result: Bool
            if p == pattern.count {
                result = t == text.count
            } else if pattern[p] == 0x2a {
                let double = p + 1 < pattern.count && pattern[p + 1] == 0x2a
                let next = double ? p + 2 : p + 1
                // `/**/` also matches a single `/`.
                if double, next < pattern.count, pattern[next] == 0x2f, match(next + 1, t) {
                    result = true
                } else {
                    var end = t
                    var found = match(next, end)
                    while !found, end < text.count, double || text[end] != 0x2f {
                        end += 1
                        found = match(next, end)
                    }
                    result = found
                }
            } else if t < text.count, pattern[p] == 0x3f ? text[t] != 0x2f : pattern[p] == text[t] {
                result = match(p + 1, t + 1)
            } else {
                result = false
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }
}
