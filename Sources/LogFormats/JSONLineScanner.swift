import SecurityModel

/// Reads one JSON object per line and extracts only the fields that are asked for, by top-level
/// key or dotted path into nested objects (`source.ip`), without building the whole document.
///
/// Strict enough to reject what is not JSON (with the byte offset), lenient where logs vary:
/// duplicate keys keep the last value, and any value type is accepted for any field.
public struct JSONLineScanner: Sendable {
    /// A requested field: its path and the slot to fill.
    struct Wanted: Sendable {
        let path: [UInt8]
        let slot: Int
    }

    public struct Failure: Error, Sendable {
        public let reason: String
    }

    /// The layouts of recent lines, most recently used first.
    private var shapes: [Shape] = []
    /// `shapes` in one set of arrays, in the same order, as ``scanShaped(_:_:_:_:into:dates:)``
    /// replays them: reading a `Shape` out of its array retained its two arrays, on every line.
    private var flat = FlatShapes()
    /// The date of the last time read (most lines of a log share their date with the previous one).
    private var dates = ISODateCache()
    private let wanted: [Wanted]
    /// Top-level keys (wanted fields and time keys) for matching without building the key.
    private let keys: KeyTable
    /// Dotted prefixes (`source.`) that make a nested object worth descending into.
    private let prefixes: [[UInt8]]
    /// Keys that hold the event time, in order of preference.
    private let timeKeys: [[UInt8]]

    /// - Parameters:
    ///   - fields: names to extract; slot numbers are their positions in the table.
    ///   - timeKeys: keys tried for the event time (ISO-8601 text, or epoch seconds/milliseconds).
    ///   - only: restrict extraction to these names (the fields the stream's rules read).
    public init(fields: FieldTable, only: Set<String>? = nil, timeKeys: [String] = ["timestamp", "@timestamp", "time", "ts"]) {
        wanted = fields.names.enumerated()
            .filter { only?.contains($0.element) ?? true }
            .map { Wanted(path: Array($0.element.utf8), slot: $0.offset) }
        var prefixes = Set<[UInt8]>()
        for name in wanted.map({ String(decoding: $0.path, as: UTF8.self) }) + timeKeys {
            var parts = Array(name.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            parts.removeLast()
            var prefix: [UInt8] = []
            for part in parts { prefix += part; prefix.append(UInt8(ascii: ".")); prefixes.insert(prefix) }
        }
        self.prefixes = Array(prefixes)
        self.timeKeys = timeKeys.map { Array($0.utf8) }
        keys = KeyTable(wanted: wanted.map { ($0.path, $0.slot) }, timeKeys: self.timeKeys)
    }

    /// Fills `record` from `line`: wanted slots, and the timestamp. Throws when the line is not a
    /// JSON object or has no usable time.
    ///
    /// Lines laid out like a recent one (same keys in the same order with the same spacing, as a
    /// program's log lines are) take a fast path: the bytes between values are compared with the
    /// remembered ones and only the values are read. Anything else, including every error, goes
    /// through the full scan, so both paths give the same result.
    public mutating func scan(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord) throws(Failure) {
        // The remembered layouts, most recent first (the one that fits moves to the front).
        var dates = self.dates
        defer { self.dates = dates }
        let replayed: Int? = flat.withBuffers { literals, segments, spans in
            for index in spans.indices where Self.scanShaped(spans[index], literals, segments, line, into: &record, dates: &dates) {
                return index
            }
            return nil
        }
        if let replayed {
            if replayed > 0 {
                shapes.swapAt(0, replayed)
                flat.spans.swapAt(0, replayed)
            }
            return
        }
        for slot in wanted { record[slot.slot] = nil }
        var learner = ShapeLearner()
        try scanFully(line, into: &record, learner: &learner, dates: &dates)
        if let shape = learner.shape(line) {
            if shapes.count >= Self.maxShapes { shapes.removeLast() }
            shapes.insert(shape, at: 0)
            flat = FlatShapes(shapes)
        }
    }

    /// Layouts remembered at once (a log that alternates between a few kinds of line keeps them all).
    static let maxShapes = 4

    private func scanFully(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord, learner: inout ShapeLearner,
                           dates: inout ISODateCache) throws(Failure) {
        var cursor = Cursor(bytes: line)
        cursor.skipSpace()
        guard cursor.peek == UInt8(ascii: "{") else {
            throw Failure(reason: cursor.atEnd ? "empty line" : "not a JSON object (starts with '\(cursor.describePeek)')")
        }
        var timeRank = Int.max
        var time: Int64?
        var remaining = wanted.count
        let complete = try scanObject(&cursor, prefix: [], record: &record, timeRank: &timeRank, time: &time, remaining: &remaining,
                                      learner: &learner, dates: &dates)
        learner.complete = complete
        if complete {
            cursor.skipSpace()
            guard cursor.atEnd else { throw Failure(reason: "unexpected data after the JSON object at byte \(cursor.index + 1)") }
        } else {
            // Everything needed was found before the end: the rest is not decoded, but a line
            // must still end its object (a truncated line is rejected).
            guard Self.closesObject(line) else {
                throw Failure(reason: "the JSON object is not closed (truncated line?)")
            }
        }
        guard let time else {
            throw Failure(reason: timeRank == Int.max
                ? "no time field (looked for \(timeKeys.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ")))"
                : "the time field is not an ISO-8601 time or epoch number between the years 1970 and 9999")
        }
        record.timestamp = Timestamp(microseconds: time)
    }

    /// Scans an object; returns false when it stopped early because nothing more was needed.
    private func scanObject(_ c: inout Cursor, prefix: [UInt8], record: inout EventRecord,
                            timeRank: inout Int, time: inout Int64?, remaining: inout Int,
                            learner: inout ShapeLearner, dates: inout ISODateCache) throws(Failure) -> Bool {
        c.index += 1  // {
        c.skipSpace()
        if c.peek == UInt8(ascii: "}") { c.index += 1; return true }
        while true {
            c.skipSpace()
            guard c.peek == UInt8(ascii: "\"") else { throw c.failure("expected a key in quotes") }
            let keyStart = c.index + 1
            let plainEnd = try c.skipString()
            // The key: a slice of the line in the common case (no escapes, top level), else built.
            var built: [UInt8]?
            if plainEnd == nil || !prefix.isEmpty {
                var key = prefix
                if let plainEnd { key.append(contentsOf: UnsafeBufferPointer(rebasing: c.bytes[keyStart..<plainEnd])) }
                else { key += Array(try Cursor.decodeString(c.bytes, from: keyStart - 1).utf8) }
                built = key
            }
            let keyEnd = plainEnd ?? keyStart
            func isKey(_ path: [UInt8]) -> Bool {
                if let built { return built == path }
                let length = keyEnd - keyStart
                guard path.count == length else { return false }
                return path.withUnsafeBufferPointer { p in
                    var k = 0
                    while k < length { if p[k] != c.bytes[keyStart + k] { return false }; k += 1 }
                    return true
                }
            }
            c.skipSpace()
            guard c.peek == UInt8(ascii: ":") else { throw c.failure("expected ':' after a key") }
            c.index += 1
            c.skipSpace()
            // What does this key feed?
            var slot: Int?
            var rank: Int?
            if built != nil {
                for entry in wanted where isKey(entry.path) { slot = entry.slot; break }
                if prefix.isEmpty {
                    for (position, timeKey) in timeKeys.enumerated() where position < timeRank && isKey(timeKey) { rank = position; break }
                }
            } else if let entry = keys.find(c.bytes.baseAddress! + keyStart, count: keyEnd - keyStart) {
                if entry.slot >= 0 { slot = entry.slot }
                if entry.timeRank >= 0, entry.timeRank < timeRank { rank = entry.timeRank }
            }
            let byte = c.peek
            // Escaped keys and nested objects make a line's layout not worth remembering.
            if built != nil || !prefix.isEmpty { learner.giveUp() }
            let valueStart = c.index
            if byte == UInt8(ascii: "{") {
                var nestedPrefix = built ?? Array(UnsafeBufferPointer(rebasing: c.bytes[keyStart..<keyEnd]))
                nestedPrefix.append(UInt8(ascii: "."))
                if !prefixes.isEmpty, prefixes.contains(nestedPrefix) {
                    learner.giveUp()
                    if try !scanObject(&c, prefix: nestedPrefix, record: &record, timeRank: &timeRank, time: &time, remaining: &remaining,
                                       learner: &learner, dates: &dates) {
                        return false
                    }
                } else {
                    try c.skipValue()
                }
            } else if slot == nil, let rank, byte == UInt8(ascii: "\"") {
                // A time that no rule reads as a field: parse it in place.
                if let parsed = try c.readTimeInPlace(dates: &dates) { time = parsed }
                timeRank = rank
            } else if let slot, rank == nil {
                if !record.hasValue(slot) { remaining -= 1 }
                try c.readValue(into: &record, slot: slot)
            } else if slot != nil || rank != nil {
                let value = try c.readValue()
                if let slot {
                    if !record.hasValue(slot) { remaining -= 1 }
                    record[slot] = value
                }
                if let rank {
                    time = Self.parseTime(value, c.bytes, valueStart, dates: &dates)
                    timeRank = rank
                }
            } else {
                try c.skipValue()
            }
            if learner.isLearning {
                // Whether a later line could hold an object here that the scan descends into.
                var nested = false
                if !prefixes.isEmpty, let plainEnd {
                    var key = Array(UnsafeBufferPointer(rebasing: c.bytes[keyStart..<plainEnd]))
                    key.append(UInt8(ascii: "."))
                    nested = prefixes.contains(key)
                }
                learner.add(valueStart: valueStart, valueEnd: c.index, slot: slot ?? -1, timeRank: rank ?? -1, nested: nested)
            }
            c.skipSpace()
            if c.peek == UInt8(ascii: ",") {
                if remaining == 0, timeRank == 0 { return false }
                c.index += 1
                continue
            }
            if c.peek == UInt8(ascii: "}") { c.index += 1; return true }
            throw c.failure("expected ',' or '}'")
        }
    }

    /// Replays a remembered layout on `line`: true when the line has it and its values read cleanly
    /// (the record is then filled as the full scan would fill it); false sends it to the full scan.
    /// `span` locates the shape's segments in `segments`, whose offsets are into `literals`.
    private static func scanShaped(_ span: FlatShapes.Span, _ literals: UnsafeBufferPointer<UInt8>,
                                   _ segments: UnsafeBufferPointer<Shape.Segment>, _ line: UnsafeBufferPointer<UInt8>,
                                   into record: inout EventRecord, dates: inout ISODateCache) -> Bool {
        guard let base = line.baseAddress, let literalBase = literals.baseAddress else { return false }
        var c = Cursor(bytes: line)
        var time: Int64?
        for index in Int(span.start)..<Int(span.end) {
            let segment = segments[index]
            let length = Int(segment.length)
            guard c.index + length <= line.count,
                  WordBytes.same(base + c.index, literalBase + Int(segment.offset), length) else { return false }
            c.index += length
            let slot = Int(segment.slot), rank = Int(segment.timeRank)
            do {
                if c.peek == UInt8(ascii: "{") {
                    // As the full scan: objects are skipped unless the rules read inside them.
                    if segment.nested { return false }
                    try c.skipValue()
                } else if slot < 0, rank >= 0, c.peek == UInt8(ascii: "\"") {
                    if let parsed = try c.readTimeInPlace(dates: &dates) { time = parsed }
                } else if slot >= 0, rank < 0 {
                    try c.readValue(into: &record, slot: slot)
                } else if slot >= 0 || rank >= 0 {
                    let valueStart = c.index
                    let value = try c.readValue()
                    if slot >= 0 { record[slot] = value }
                    if rank >= 0 { time = Self.parseTime(value, line, valueStart, dates: &dates) }
                } else {
                    try c.skipValue()
                }
            } catch {
                return false
            }
        }
        c.skipSpace()
        if span.complete {
            guard c.peek == UInt8(ascii: "}") else { return false }
            c.index += 1
            c.skipSpace()
            guard c.atEnd else { return false }
        } else {
            guard c.peek == UInt8(ascii: ","), Self.closesObject(line) else { return false }
        }
        guard let time else { return false }
        record.timestamp = Timestamp(microseconds: time)
        return true
    }

    /// Whether `line`, whose scan stopped early, still ends its object (a truncated line does not).
    private static func closesObject(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = line.count
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D { end -= 1 }
        return end > 0 && line[end - 1] == UInt8(ascii: "}")
    }

    /// The event time of `value` in microseconds, or nil when it is none or lies outside the years
    /// 1970 to 9999 (checked arithmetic: `1e300` or a huge epoch is a rejected line, never a trap).
    private static func parseTime(_ value: FieldValue, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, dates: inout ISODateCache) -> Int64? {
        guard let time = unboundedTime(value, bytes, start, dates: &dates), Timestamp.supportedRange.contains(time) else { return nil }
        return time
    }

    private static func unboundedTime(_ value: FieldValue, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, dates: inout ISODateCache) -> Int64? {
        switch value {
        case .string:
            // Parse from the bytes between the quotes (no escapes in a timestamp).
            var end = start + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
            return Timestamp(iso8601Bytes: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<end]), cache: &dates)?.microseconds
        case .int(let number):
            // Epoch seconds, or milliseconds when too large to be seconds.
            let (micros, overflow) = number.multipliedReportingOverflow(by: number > 100_000_000_000 ? 1000 : 1_000_000)
            return overflow ? nil : micros
        case .double(let number):
            let micros = number > 100_000_000_000 ? number * 1000 : (number * 1_000_000).rounded()
            // Int64(_:) traps on what it cannot represent: NaN, infinities and out-of-range values.
            guard micros.isFinite, micros >= Double(Timestamp.supportedRange.lowerBound),
                  micros <= Double(Timestamp.supportedRange.upperBound) else { return nil }
            return Int64(micros)
        default: return nil
        }
    }
}

/// The layout of a line up to where its scan stopped: for each top-level value, the bytes before
/// it (from the end of the previous value: separator, key, colon, spacing) and what the value
/// feeds. Lines with the same bytes between their values are read by replaying it.
struct Shape: Sendable {
    struct Segment: Sendable {
        /// Where the bytes before the value are in ``Shape/bytes``.
        let offset: Int32
        let length: Int32
        /// The slot the value fills, or -1.
        let slot: Int32
        /// The time key rank the value provides, or -1.
        let timeRank: Int32
        /// Whether rules read fields inside an object under this key (the full scan descends).
        let nested: Bool
    }

    let bytes: [UInt8]
    let segments: [Segment]
    /// Whether the scan reached the end of the object (else it stopped early, at a comma).
    let complete: Bool
}

/// Shapes in one set of arrays: all their literal bytes, all their segments (offsets into the
/// bytes of all), and where each shape's segments are.
struct FlatShapes: Sendable {
    struct Span: Sendable {
        let start: Int32
        let end: Int32
        let complete: Bool
    }

    private(set) var bytes: [UInt8] = []
    private(set) var segments: [Shape.Segment] = []
    /// By index in the array of shapes flattened (they may be reordered, as the shapes are).
    var spans: [Span] = []

    init() {}

    init(_ shapes: [Shape]) {
        for shape in shapes {
            let base = Int32(bytes.count)
            spans.append(Span(start: Int32(segments.count), end: Int32(segments.count + shape.segments.count), complete: shape.complete))
            for segment in shape.segments {
                segments.append(Shape.Segment(offset: base + segment.offset, length: segment.length, slot: segment.slot,
                                              timeRank: segment.timeRank, nested: segment.nested))
            }
            bytes += shape.bytes
        }
    }

    /// Calls `body` with the three arrays, read in place.
    @inline(__always)
    func withBuffers<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Shape.Segment>, UnsafeBufferPointer<Span>) -> R) -> R {
        bytes.withUnsafeBufferPointer { bytes in
            segments.withUnsafeBufferPointer { segments in spans.withUnsafeBufferPointer { body(bytes, segments, $0) } }
        }
    }
}

/// Records a line's layout during a full scan (see ``Shape``).
struct ShapeLearner {
    private var valid = true
    private var literalStart = 0
    private var spans: [(start: Int, end: Int, slot: Int, timeRank: Int, nested: Bool)] = []
    var complete = false

    /// Whether the line can still be learned.
    var isLearning: Bool { valid }

    /// The line has something a replay cannot reproduce (an escaped key, a nested object read).
    mutating func giveUp() { valid = false }

    mutating func add(valueStart: Int, valueEnd: Int, slot: Int, timeRank: Int, nested: Bool) {
        guard valid else { return }
        spans.append((literalStart, valueStart, slot, timeRank, nested))
        literalStart = valueEnd
    }

    /// The layout learned from `line`, if it can be replayed.
    func shape(_ line: UnsafeBufferPointer<UInt8>) -> Shape? {
        guard valid, !spans.isEmpty, line.count < Int(Int32.max) else { return nil }
        var bytes: [UInt8] = []
        var segments: [Shape.Segment] = []
        for span in spans {
            segments.append(Shape.Segment(offset: Int32(bytes.count), length: Int32(span.end - span.start),
                                          slot: Int32(span.slot), timeRank: Int32(span.timeRank), nested: span.nested))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[span.start..<span.end]))
        }
        return Shape(bytes: bytes, segments: segments, complete: complete)
    }
}

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

/// Top-level keys the scanner looks for, with their lengths and bytes in one block, so that a key
/// in the line is matched by length and a word-wise compare instead of building it.
final class KeyTable: @unchecked Sendable {
    struct Entry {
        let offset: Int
        let length: Int
        /// Slot to fill, or -1.
        let slot: Int
        /// Preference among time keys, or -1.
        let timeRank: Int
    }

    private let entries: [Entry]
    private let bytes: UnsafeMutablePointer<UInt8>

    init(wanted: [([UInt8], Int)], timeKeys: [[UInt8]]) {
        var names: [[UInt8]] = []
        var slots: [Int] = []
        var ranks: [Int] = []
        for (path, slot) in wanted {
            names.append(path); slots.append(slot); ranks.append(-1)
        }
        for (rank, key) in timeKeys.enumerated() {
            if let existing = names.firstIndex(of: key) { if ranks[existing] < 0 { ranks[existing] = rank } } else {
                names.append(key); slots.append(-1); ranks.append(rank)
            }
        }
        bytes = .allocate(capacity: max(1, names.reduce(0) { $0 + $1.count }))
        var offset = 0
        var entries: [Entry] = []
        for (index, name) in names.enumerated() {
            for (k, byte) in name.enumerated() { bytes[offset + k] = byte }
            entries.append(Entry(offset: offset, length: name.count, slot: slots[index], timeRank: ranks[index]))
            offset += name.count
        }
        self.entries = entries
    }

    deinit { bytes.deallocate() }

    /// The entry whose name is the `count` bytes at `key`.
    @inline(__always)
    func find(_ key: UnsafePointer<UInt8>, count: Int) -> Entry? {
        for entry in entries where entry.length == count {
            if WordBytes.same(key, bytes + entry.offset, count) { return entry }
        }
        return nil
    }
}
