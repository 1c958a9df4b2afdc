import Crypto
import Foundation

/// A hash chain through the lines of a JSON-lines log, so that a changed, removed, reordered or
/// inserted line shows. Each line gets a last field, `"chain": "ID:SEQ:HASH"`, where
/// `HASH = SHA-256(previous HASH ‖ the line without this field)`, in hex. A writer starts a new
/// chain (a new random `ID`, `SEQ` 1) each time it opens the file; the first hash starts from the
/// file's last chained hash when there was one, so the runs link up too.
///
/// What the chain cannot show by itself is the end of the file cut off, or the whole file replaced:
/// SecMon keeps each chain's newest `SEQ` and `HASH` in the database (an anchor) for that.
///
/// Pure: ``seal(_:)`` and ``Verifier`` do no I/O.
public struct LogChain: Sendable {
    /// This writer's chain id (16 hex digits).
    public let id: String
    /// Lines sealed so far.
    public private(set) var sequence: UInt64 = 0
    /// The newest hash (the genesis before the first line).
    public private(set) var head: [UInt8]

    /// The field's name, and the text that starts it at the end of a line.
    public static let field = "chain"
    static let marker = Array(#", "chain": ""#.utf8)

    /// Starts a chain after `previous` (the file's last hash, in hex; nil for a new file).
    public init(id: String = LogChain.newID(), previous: String? = nil) {
        self.id = id
        head = Self.genesis(id: id, previous: previous)
    }

    /// 16 random hex digits.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%016llx", generator.next() as UInt64)
    }

    /// The hash a chain starts from.
    static func genesis(id: String, previous: String?) -> [UInt8] {
        Array(SHA256.hash(data: Array("secmon-log-chain-v1|\(id)|\(previous ?? "")".utf8)))
    }

    /// `line` (a JSON object and its newline) with its chain field added; a line that is not an
    /// object is returned unchanged (and so shows as unchained).
    public mutating func seal(_ line: [UInt8]) -> [UInt8] {
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        guard end > 1, line[0] == UInt8(ascii: "{"), line[end - 1] == UInt8(ascii: "}") else { return line }
        sequence &+= 1
        var hasher = SHA256()
        hasher.update(data: head)
        hasher.update(data: line[0..<end])
        head = Array(hasher.finalize())
        var out = [UInt8]()
        out.reserveCapacity(end + 110)
        out.append(contentsOf: line[0..<(end - 1)])
        out.append(contentsOf: Self.marker)
        out.append(contentsOf: Array("\(id):\(sequence):".utf8))
        out.append(contentsOf: Self.hex(head))
        out.append(contentsOf: Array("\"}\n".utf8))
        return out
    }

    /// The hash of a line's chain field, in hex (to find where a file's chain ended).
    public static func hash(ofLine line: some Collection<UInt8>) -> (id: String, sequence: UInt64, hash: String)? {
        split(Array(line))?.link
    }

    static func hex(_ bytes: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return out
    }

    /// A sealed line's content (as it was before sealing) and its link, or nil when it has none.
    static func split(_ line: [UInt8]) -> (content: [UInt8], link: (id: String, sequence: UInt64, hash: String))? {
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        // `, "chain": "ID:SEQ:HASH"}` ends the line; HASH is 64 hex digits.
        guard end >= marker.count + 70, line[end - 1] == UInt8(ascii: "}"), line[end - 2] == UInt8(ascii: "\"") else { return nil }
        let valueEnd = end - 2
        guard let start = lastMarker(line, before: valueEnd) else { return nil }
        let value = String(decoding: line[(start + marker.count)..<valueEnd], as: UTF8.self)
        let parts = value.split(separator: ":")
        guard parts.count == 3, let sequence = UInt64(parts[1]), parts[2].utf8.count == 64,
              parts[2].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        var content = Array(line[0..<start])
        content.append(UInt8(ascii: "}"))
        return (content, (String(parts[0]), sequence, String(parts[2])))
    }

    private static func lastMarker(_ line: [UInt8], before end: Int) -> Int? {
        var index = end - marker.count
        // The value is at most ~100 bytes: look back no further.
        let floor = max(0, end - marker.count - 120)
        while index >= floor {
            if line[index] == marker[0], Array(line[index..<(index + marker.count)]) == marker { return index }
            index -= 1
        }
        return nil
    }

    /// Checks a log's chains line by line (streaming: feed lines in order, then read the report).
    public struct Verifier: Sendable {
        /// What was found.
        public struct Report: Sendable {
            public var lines: Int64 = 0
            /// Lines with a chain field whose hash checks.
            public var chained: Int64 = 0
            /// Lines without a chain field (written before chaining, or by another writer).
            public var unchained: Int64 = 0
            /// Each chain seen: its id, the last sequence number and hash.
            public var chains: [String: (sequence: UInt64, hash: String)] = [:]
            /// Problems, each with its line number, at most ``maxProblems`` (``problemCount`` has them all).
            public var problems: [String] = []
            public var problemCount = 0
            /// Where a chain started afresh in a file that already had chained lines (not a problem:
            /// the file was rotated, then put back together).
            public var restarts: [String] = []
            public var intact: Bool { problemCount == 0 }
        }

        /// Most problems listed.
        public static let maxProblems = 50
        public private(set) var report = Report()
        private var heads: [String: [UInt8]] = [:]
        private var sequences: [String: UInt64] = [:]
        /// The newest hash of the file so far (a new chain starts from it).
        private var lastHash: String?

        public init() {}

        /// Checks the next line (without or with its newline).
        public mutating func feed(_ line: [UInt8]) {
            report.lines &+= 1
            guard let (content, link) = LogChain.split(line) else {
                guard !line.allSatisfy({ $0 == 0x0A || $0 == 0x0D || $0 == 0x20 }) else { return }
                report.unchained &+= 1
                // Before the first chained line: written before chaining. After it: inserted.
                if lastHash != nil { problem("line \(report.lines): has no chain field, amid chained lines: it was inserted or its chain field removed") }
                return
            }
            let number = report.lines
            func digest(_ previous: [UInt8]) -> String {
                var hasher = SHA256()
                hasher.update(data: previous)
                hasher.update(data: content)
                return String(decoding: LogChain.hex(Array(hasher.finalize())), as: UTF8.self)
            }
            if let head = heads[link.id] {
                let expected = (sequences[link.id] ?? 0) &+ 1
                if link.sequence != expected {
                    problem("line \(number): chain \(link.id) goes from its line \(expected &- 1) to \(link.sequence): \(link.sequence > expected ? "lines were removed" : "lines were repeated or reordered")")
                } else if digest(head) != link.hash {
                    problem("line \(number): the line, or the one before it in chain \(link.id), was changed (the hash does not match)")
                } else {
                    report.chained &+= 1
                }
            } else if link.sequence != 1 {
                problem("line \(number): chain \(link.id) starts at its line \(link.sequence): the lines before it were removed")
            } else if digest(LogChain.genesis(id: link.id, previous: lastHash)) == link.hash {
                report.chained &+= 1
            } else if lastHash != nil, digest(LogChain.genesis(id: link.id, previous: nil)) == link.hash {
                // Opened on an empty file (after a rotation): the chain starts afresh here.
                report.chained &+= 1
                report.restarts.append("line \(number): chain \(link.id) starts afresh (the file was new or empty when it was opened: a rotation)")
            } else {
                problem("line \(number): the first line of chain \(link.id) was changed, or lines before it were removed")
            }
            // Go on from what the line says, so one change is reported once.
            heads[link.id] = LogChain.bytes(hex: link.hash) ?? []
            sequences[link.id] = link.sequence
            report.chains[link.id] = (link.sequence, link.hash)
            lastHash = link.hash
        }

        /// Checks that the file holds each anchor (a chain's newest line as SecMon last recorded it).
        public mutating func check(anchors: [(id: String, sequence: UInt64, hash: String)]) {
            for anchor in anchors {
                guard let seen = report.chains[anchor.id] else {
                    problem("chain \(anchor.id) (\(anchor.sequence) lines recorded) is not in the file: it was removed or the file replaced")
                    continue
                }
                if seen.sequence < anchor.sequence {
                    problem("chain \(anchor.id) ends at its line \(seen.sequence), but \(anchor.sequence) were recorded: the end of the log was cut off")
                }
            }
        }

        private mutating func problem(_ text: String) {
            report.problemCount += 1
            if report.problems.count < Self.maxProblems { report.problems.append(text) }
        }
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
