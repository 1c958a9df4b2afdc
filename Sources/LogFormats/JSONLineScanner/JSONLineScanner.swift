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
