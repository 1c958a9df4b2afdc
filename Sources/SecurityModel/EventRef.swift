/// Where an event came from, so that an alert can point the analyst back at the evidence:
/// a file and line for batch analysis, an event id for events the server stored.
///
/// Plain data (no strings or references inside): the detection engine copies event references
/// with every rule match, and a reference that needs no reference counting costs a memory copy.
/// Ids are therefore held as bytes: a UUID (SecMon's own event ids are UUIDv7) as its 128 bits,
/// other ids of up to 16 bytes as their text. Build id references with ``id(_:)``.
public enum EventRef: Hashable, Sendable, CustomStringConvertible {
    /// Line `line` (1-based) of input number `source` (an index into the analysis' input names).
    case line(source: Int32, line: Int64)
    /// An event id that is a UUID, as its two 64-bit halves (most significant first).
    case uuid(UInt64, UInt64)
    /// An event id of at most 16 bytes that is not a UUID, its bytes packed little-endian.
    case shortID(UInt64, UInt64)
    /// An event whose id could not be held (longer than 16 bytes and not a UUID).
    case unknown

    /// A reference to the event with id `text`: a UUID (in either case; it reads back lower-case),
    /// or any other id of 1 to 16 bytes. Longer ids that are not UUIDs give ``unknown``.
    public static func id(_ text: String) -> EventRef {
        var text = text
        return text.withUTF8 { bytes in
            if let (high, low) = Self.parseUUID(bytes) { return .uuid(high, low) }
            guard !bytes.isEmpty, bytes.count <= 16 else { return .unknown }
            var words: (UInt64, UInt64) = (0, 0)
            for (index, byte) in bytes.enumerated() {
                if index < 8 { words.0 |= UInt64(byte) << (8 * UInt64(index)) }
                else { words.1 |= UInt64(byte) << (8 * UInt64(index - 8)) }
            }
            return .shortID(words.0, words.1)
        }
    }

    /// The id of an id reference (`nil` for line references and ``unknown``).
    public var id: String? {
        switch self {
        case .line, .unknown: return nil
        case .uuid(let high, let low):
            let hex = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(36)
            for index in 0..<32 {
                if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
                let word = index < 16 ? high : low
                let shift = UInt64(60 - 4 * (index % 16))
                out.append(hex[Int((word >> shift) & 0xF)])
            }
            return String(decoding: out, as: UTF8.self)
        case .shortID(let first, let second):
            var out: [UInt8] = []
            for index in 0..<16 {
                let byte = UInt8(truncatingIfNeeded: (index < 8 ? first : second) >> (8 * UInt64(index % 8)))
                if byte == 0 { break }
                out.append(byte)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    public var description: String {
        switch self {
        case .line(let source, let line): return "#\(source):\(line)"
        case .unknown: return "(event id too long to keep)"
        default: return id ?? ""
        }
    }

    /// The 128 bits of a canonical UUID (`8-4-4-4-12` hex digits), or nil.
    static func parseUUID(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        var digits = 0
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            if digits < 16 { high = high << 4 | value } else { low = low << 4 | value }
            digits += 1
        }
        return (high, low)
    }
}
