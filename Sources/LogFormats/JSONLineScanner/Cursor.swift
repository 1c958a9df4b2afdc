import SecurityModel

/// A position in a line being scanned as JSON.
struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8 { index < bytes.count ? bytes[index] : 0 }
    var describePeek: String {
        let byte = peek
        return byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16)
    }

    func failure(_ message: String) -> JSONLineScanner.Failure {
        JSONLineScanner.Failure(reason: atEnd ? "\(message), but the line ends (truncated JSON?)" : "\(message) at byte \(index + 1) ('\(describePeek)')")
    }

    @inline(__always)
    mutating func skipSpace() {
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A { index += 1 } else { return }
        }
    }

    /// Skips a string starting at its quote. Returns the end (exclusive, before the closing quote)
    /// when it has no escapes, or nil when it has (the caller decodes it).
    mutating func skipString() throws(JSONLineScanner.Failure) -> Int? {
        index += 1
        var escaped = false
        let count = bytes.count
        guard let base = bytes.baseAddress else { throw failure("unterminated string") }
        while true {
            // Eight bytes at a time to the first quote, backslash or control character (the lowest
            // flagged byte of each mask is exact, so the lowest overall is a real stop).
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let stops = WordBytes.equal(word, UInt8(ascii: "\"")) | WordBytes.equal(word, UInt8(ascii: "\\"))
                    | WordBytes.below(word, 0x20)
                if stops != 0 { index += stops.trailingZeroBitCount >> 3; break }
                index += 8
            }
            guard index < count else { index = count; throw failure("unterminated string") }
            let b = base[index]
            if b == UInt8(ascii: "\"") { index += 1; return escaped ? nil : index - 1 }
            if b == UInt8(ascii: "\\") { escaped = true; index += 2; continue }
            if b < 0x20 { throw failure("control character inside a string") }
            index += 1
        }
    }

    /// Skips the string at the cursor and reads it as an ISO-8601 time (microseconds), or nil when
    /// it is not one (a time has no escapes).
    mutating func readTimeInPlace(dates: inout ISODateCache) throws(JSONLineScanner.Failure) -> Int64? {
        let start = index + 1
        guard let end = try skipString() else { return nil }
        return Timestamp(iso8601Bytes: UnsafeBufferPointer(rebasing: bytes[start..<end]), cache: &dates)?.microseconds
    }

    /// Decodes the string whose opening quote is at `quote` (escapes resolved).
    static func decodeString(_ bytes: UnsafeBufferPointer<UInt8>, from quote: Int) throws(JSONLineScanner.Failure) -> String {
        var out: [UInt8] = []
        var i = quote + 1
        func fail(_ m: String) -> JSONLineScanner.Failure { JSONLineScanner.Failure(reason: "\(m) at byte \(i + 1)") }
        func hex4(_ at: Int) throws(JSONLineScanner.Failure) -> UInt32 {
            guard at + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var value: UInt32 = 0
            for k in at..<(at + 4) {
                let c = bytes[k]
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw fail("bad \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            guard i + 1 < bytes.count else { break }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= bytes.count, bytes[i] == 0x5C, bytes[i + 1] == UInt8(ascii: "u") {
                    let low = try hex4(i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out += Array(String(character).utf8)
            default:
                throw fail("unknown escape '\\\(Character(UnicodeScalar(e)))'")
            }
        }
        throw JSONLineScanner.Failure(reason: "unterminated string")
    }

    /// Reads a value into `slot` of `record`: text without escapes as its bytes (no `String` is
    /// made), anything else as ``readValue()`` reads it.
    @inline(__always)
    mutating func readValue(into record: inout EventRecord, slot: Int) throws(JSONLineScanner.Failure) {
        if peek == UInt8(ascii: "\"") {
            let start = index
            if let end = try skipString() {
                record.setText(UnsafeBufferPointer(rebasing: bytes[(start + 1)..<end]), slot: slot)
            } else {
                record[slot] = .string(try Cursor.decodeString(bytes, from: start))
            }
            return
        }
        record[slot] = try readValue()
    }

    /// Reads a scalar or an array of scalars as a field value.
    mutating func readValue() throws(JSONLineScanner.Failure) -> FieldValue {
        let b = peek
        switch b {
        case UInt8(ascii: "\""):
            let start = index
            if let end = try skipString() {
                return .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<end]), as: UTF8.self))
            }
            return .string(try Cursor.decodeString(bytes, from: start))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "["):
            index += 1
            var elements: [FieldValue] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { index += 1; return .list(elements) }
            while true {
                skipSpace()
                if peek == UInt8(ascii: "{") || peek == UInt8(ascii: "[") { try skipValue() } else { elements.append(try readValue()) }
                skipSpace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                if peek == UInt8(ascii: "]") { index += 1; return .list(elements) }
                throw failure("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "{"):
            try skipValue()
            return .null
        default:
            return try readNumber()
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONLineScanner.Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("truncated literal") }
        let expected = word.utf8Start
        for k in 0..<count where bytes[index + k] != expected[k] { throw failure("invalid literal") }
        index += count
    }

    private mutating func readNumber() throws(JSONLineScanner.Failure) -> FieldValue {
        let start = index
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; index += 1 }
        var integer: Int64 = 0
        var digits = 0
        var overflow = false
        while index < bytes.count, bytes[index] &- 0x30 < 10 {
            let (m, o1) = integer.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(bytes[index] - 0x30))
            integer = a; overflow = overflow || o1 || o2
            digits += 1; index += 1
        }
        guard digits > 0 else { index = start; throw failure("expected a value") }
        var isDouble = overflow
        if peek == UInt8(ascii: ".") || peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isDouble = true
            index += 1
            while index < bytes.count, bytes[index] &- 0x30 < 10 || [UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[index]) {
                index += 1
            }
        }
        if isDouble {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Double(text) else { throw failure("invalid number '\(text)'") }
            return .double(value)
        }
        return .int(negative ? -integer : integer)
    }

    /// Skips any value, nested objects and arrays included.
    mutating func skipValue() throws(JSONLineScanner.Failure) {
        switch peek {
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") { _ = try skipString(); continue }
                if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1; if depth > 512 { throw failure("nesting deeper than 512") } }
                if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { index += 1; return }
                }
                index += 1
            }
            throw failure("unterminated object or array")
        default:
            _ = try readValue()
        }
    }
}
