/// Helpers for scanning a line as bytes.
struct ByteLine {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8 { index < bytes.count ? bytes[index] : 0 }

    /// Returns the range up to the next `delimiter` (exclusive) and moves past the delimiter.
    mutating func upTo(_ delimiter: UInt8) -> Range<Int>? {
        let start = index
        while index < bytes.count, bytes[index] != delimiter { index += 1 }
        guard index < bytes.count else { index = start; return nil }
        defer { index += 1 }
        return start..<index
    }

    /// The next space-separated token (runs of spaces are skipped).
    mutating func token() -> Range<Int>? {
        while index < bytes.count, bytes[index] == 0x20 { index += 1 }
        let start = index
        while index < bytes.count, bytes[index] != 0x20 { index += 1 }
        return start < index ? start..<index : nil
    }

    mutating func expect(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 { index += 1 } }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    func integer(_ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value: Int64 = 0
        for i in range {
            let d = bytes[i] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int64(d)
        }
        return value
    }

    /// A quoted field with `\"` escapes (as nginx and Apache write them); the range excludes quotes.
    mutating func quoted() -> Range<Int>? {
        guard expect(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") { index += 2; continue }
            if bytes[index] == UInt8(ascii: "\"") { defer { index += 1 }; return start..<index }
            index += 1
        }
        return nil
    }

    static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// Month number (1-12) of a three-letter English abbreviation at `at`.
    func month(at: Int) -> Int64? {
        guard at + 3 <= bytes.count else { return nil }
        for (index, name) in Self.months.enumerated()
        where bytes[at] == name[0] && bytes[at + 1] == name[1] && bytes[at + 2] == name[2] {
            return Int64(index + 1)
        }
        return nil
    }

    func digits(_ at: Int, _ count: Int) -> Int64? {
        guard at >= 0, at + count <= bytes.count else { return nil }
        return integer(at..<(at + count))
    }
}
