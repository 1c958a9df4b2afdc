/// A suspicious string found in a file.
public struct StringFinding: Sendable, Equatable, Codable {
    public var category: String
    /// The pattern that matched.
    public var pattern: String
    /// The printable run it sits in (cut to `StringsScanner.sampleBytes`).
    public var sample: String
    /// Where the run starts in the file.
    public var offset: Int
}

/// What the strings scan found: suspicious patterns, and the URLs, domains and IPv4 addresses in
/// the file's text (for indicator lists), each bounded.
public struct StringsSummary: Sendable, Equatable, Codable {
    /// Printable runs of at least `StringsScanner.minimumRun` bytes.
    public var runs: Int = 0
    public var findings: [StringFinding] = []
    /// Hits beyond the kept findings.
    public var findingsDropped: Int = 0
    public var urls: [String] = []
    public var domains: [String] = []
    public var ipv4: [String] = []
    /// URLs, domains and addresses beyond the kept ones.
    public var networkDropped: Int = 0
}

/// Finds printable ASCII runs in a byte stream (as `strings(1)` does) and looks in each for the
/// bundled patterns, URLs and addresses. A run cut by a chunk boundary is carried over; runs are
/// examined up to `maxRun` bytes, so memory is fixed.
public struct StringsScanner: Sendable {
    public static let minimumRun = 6
    public static let maxRun = 4096
    public static let sampleBytes = 160
    public static let maxFindings = 100
    public static let maxNetwork = 100

    private let patterns: [StringPattern]
    /// Patterns by their first byte, so that a run is read once, not once per pattern.
    private let byFirstByte: [[Int]]
    private var run: [UInt8] = []
    private var lower: [UInt8] = []
    private var runStart = 0
    private var runLength = 0
    private var position = 0
    private var summary = StringsSummary()
    private var seenURLs = Set<String>()
    private var seenDomains = Set<String>()
    private var seenIPs = Set<String>()
    private var seenFindings = Set<Int>()

    public init(patterns: [StringPattern] = StringPattern.bundled) {
        self.patterns = patterns
        var table = [[Int]](repeating: [], count: 256)
        for (index, pattern) in patterns.enumerated() where !pattern.needle.isEmpty { table[Int(pattern.needle[0])].append(index) }
        byFirstByte = table
        run.reserveCapacity(Self.maxRun)
        lower.reserveCapacity(Self.maxRun)
    }

    @inline(__always)
    private static func isPrintable(_ byte: UInt8) -> Bool { byte &- 0x20 < 0x5f || byte == 0x09 }

    /// Runs are found without a branch per byte (random bytes would defeat the predictor): the
    /// length of the current run is kept by arithmetic, and only a run of `minimumRun` bytes or
    /// more that ends is looked at. The bytes of a run still open when a chunk ends are carried.
    public mutating func update(_ chunk: UnsafeRawBufferPointer) {
        let count = chunk.count
        var streak = runLength
        var index = 0
        while index < count {
            let byte = chunk[index]
            let printable = (byte &- 0x20 < 0x5f) || byte == 0x09
            let next = (streak &+ 1) & (0 &- (printable ? 1 : 0))
            if next == 0 && streak >= Self.minimumRun { endRun(chunk, length: streak, end: index) }
            streak = next
            index += 1
        }
        if streak > 0 {
            // Carry what this chunk holds of the open run (the rest was carried before).
            let here = min(streak, count)
            if streak == here { run.removeAll(keepingCapacity: true) }
            let room = Self.maxRun - run.count
            if room > 0 { run.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[(count - here)..<(count - here + min(room, here))])) }
        } else {
            run.removeAll(keepingCapacity: true)
        }
        runLength = streak
        position += count
    }

    /// A run of `length` bytes ended just before `end` in `chunk` (its start may be in a chunk
    /// before, carried in `run`).
    private mutating func endRun(_ chunk: UnsafeRawBufferPointer, length: Int, end: Int) {
        let here = min(length, end)
        if length == here { run.removeAll(keepingCapacity: true) }
        let room = Self.maxRun - run.count
        if room > 0 { run.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[(end - here)..<(end - here + min(room, here))])) }
        runStart = position + end - length
        runLength = length
        closeRun()
    }

    public mutating func finish() -> StringsSummary {
        if runLength >= Self.minimumRun {
            runStart = position - runLength
            closeRun()
        }
        return summary
    }

    private mutating func closeRun() {
        defer { run.removeAll(keepingCapacity: true); runLength = 0 }
        summary.runs += 1
        lower.removeAll(keepingCapacity: true)
        var hasDot = false, hasColon = false
        for byte in run {
            lower.append(byte &- 65 < 26 ? byte | 0x20 : byte)
            if byte == 0x2e { hasDot = true } else if byte == 0x3a { hasColon = true }
        }
        if !patterns.isEmpty { matchPatterns() }
        if hasColon && Self.contains(lower, Self.schemeSeparator) { collectURLs(lower) }
        if hasDot { collectIPv4(lower) }
    }

    private static let schemeSeparator = Array("://".utf8)

    private mutating func matchPatterns() {
        let count = lower.count
        var hits: [Int] = []
        lower.withUnsafeBufferPointer { text in
            for index in 0..<count {
                for candidate in byFirstByte[Int(text[index])] {
                    let needle = patterns[candidate].needle
                    guard index + needle.count <= count else { continue }
                    var matched = 1
                    while matched < needle.count, text[index + matched] == needle[matched] { matched += 1 }
                    if matched == needle.count { hits.append(candidate) }
                }
            }
        }
        for candidate in hits where !seenFindings.contains(candidate) {
            guard summary.findings.count < Self.maxFindings else { summary.findingsDropped += 1; continue }
            seenFindings.insert(candidate)
            let pattern = patterns[candidate]
            summary.findings.append(StringFinding(
                category: pattern.category, pattern: String(decoding: pattern.needle, as: UTF8.self),
                sample: String(decoding: run.prefix(Self.sampleBytes), as: UTF8.self), offset: runStart))
        }
    }

    private mutating func collectURLs(_ text: [UInt8]) {
        for scheme in ["http://", "https://", "ftp://"] {
            let needle = Array(scheme.utf8)
            var from = 0
            while let start = Self.index(of: needle, in: text, from: from) {
                var end = start + needle.count
                while end < text.count, !Self.urlStops.contains(text[end]) { end += 1 }
                from = end
                let url = String(decoding: text[start..<end], as: UTF8.self)
                let hostStart = start + needle.count
                var hostEnd = hostStart
                while hostEnd < end, text[hostEnd] != 0x2f, text[hostEnd] != 0x3a, text[hostEnd] != 0x3f, text[hostEnd] != 0x23 { hostEnd += 1 }
                let host = String(decoding: text[hostStart..<hostEnd], as: UTF8.self)
                guard !host.isEmpty else { continue }
                add(url, .url)
                if Self.dottedQuad(Array(host.utf8)) != nil { add(host, .ip) } else if host.contains(".") { add(host, .domain) }
            }
        }
    }

    private mutating func collectIPv4(_ text: [UInt8]) {
        var index = 0
        while index < text.count {
            guard Self.isDigit(text[index]), index == 0 || !(Self.isDigit(text[index - 1]) || text[index - 1] == 0x2e) else { index += 1; continue }
            var end = index
            while end < text.count, Self.isDigit(text[end]) || text[end] == 0x2e { end += 1 }
            if let quad = Self.dottedQuad(Array(text[index..<end])) { add(quad, .ip) }
            index = end
        }
    }

    private enum NetworkKind { case url, domain, ip }

    private mutating func add(_ value: String, _ kind: NetworkKind) {
        let fresh: Bool
        switch kind {
        case .url: fresh = !seenURLs.contains(value)
        case .domain: fresh = !seenDomains.contains(value)
        case .ip: fresh = !seenIPs.contains(value)
        }
        guard fresh else { return }
        let kept = summary.urls.count + summary.domains.count + summary.ipv4.count
        guard kept < Self.maxNetwork * 3 else { summary.networkDropped += 1; return }
        switch kind {
        case .url: seenURLs.insert(value); summary.urls.append(value)
        case .domain: seenDomains.insert(value); summary.domains.append(value)
        case .ip: seenIPs.insert(value); summary.ipv4.append(value)
        }
    }

    private static let urlStops: Set<UInt8> = Set(" \t\"'<>`\\{}|^".utf8)

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// `a.b.c.d` with each part 0-255 and no leading zeros, or nil.
    static func dottedQuad(_ bytes: [UInt8]) -> String? {
        let parts = bytes.split(separator: 0x2e, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(isDigit), part.count == 1 || part.first != 48 else { return nil }
            var value = 0
            for digit in part { value = value * 10 + Int(digit - 48) }
            guard value <= 255 else { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { index(of: needle, in: haystack, from: 0) != nil }

    static func index(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count - from >= needle.count else { return nil }
        let first = needle[0]
        var index = from
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}
