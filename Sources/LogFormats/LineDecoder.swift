import SecurityModel

/// Decodes lines of one format into ``EventRecord``s, filling the slots of a ``FieldTable``.
///
/// A value type with state: the JSON scanner remembers the layout of recent lines (see
/// ``JSONLineScanner/scan(_:into:)``), so keep one decoder per stream and decode in place.
public struct LineDecoder: Sendable {
    public let format: LogFormat
    /// The stream of the format's events (held: computing it per line costs a copy).
    private let logSource: LogSource
    private let keepRawLine: Bool
    private var json: JSONLineScanner?
    /// Host lines: a second scanner that reads only `category`, into a record of one slot.
    private var category: JSONLineScanner?
    private var categoryRecord = EventRecord(slotCount: 1)
    private let access: AccessLogDecoder?
    private let syslog: SyslogDecoder?
    /// Lines longer than this are rejected without being decoded.
    public static let maxLineBytes = 1 << 20

    /// - Parameters:
    ///   - fields: the fields the rules read (see `RuleSet.fields`).
    ///   - keepRawLine: keep the line in the record (keyword rules need it).
    ///   - referenceTime: the "now" that places year-less syslog times.
    ///   - only: the names the stream's rules read (others are not extracted); nil for all.
    public init(format: LogFormat, fields: FieldTable, only: Set<String>? = nil, keepRawLine: Bool, referenceTime: Timestamp) {
        self.format = format
        self.logSource = format.logSource
        self.keepRawLine = keepRawLine
        json = (format == .activity || format == .json || format == .host) ? JSONLineScanner(fields: fields, only: only) : nil
        category = format == .host ? JSONLineScanner(fields: FieldTable(["category"])) : nil
        access = format == .access ? AccessLogDecoder(fields: fields) : nil
        syslog = format == .syslog ? SyslogDecoder(fields: fields, referenceTime: referenceTime) : nil
    }

    /// Decodes `line` (without its newline) into `record`, which is reset first.
    public mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord) throws(LineRejection) {
        record.reset()
        // Compared first: assigning copies the source's strings (and releases the old ones).
        if record.logSource != logSource { record.logSource = logSource }
        if line.count > Self.maxLineBytes {
            throw LineRejection("line of \(line.count) bytes is longer than the \(Self.maxLineBytes)-byte limit")
        }
        // Invalid UTF-8 and NUL bytes are rejected here so that no rule sees replacement characters.
        if let suspect = Self.firstNonASCIIOrNUL(line) {
            if line[suspect] == 0 { throw LineRejection("NUL byte at \(suspect + 1) (binary data?)") }
            if !Self.isValidUTF8(UnsafeBufferPointer(rebasing: line[suspect...])) {
                throw LineRejection("invalid UTF-8 (binary data?)")
            }
            if let nul = line.firstIndex(of: 0) { throw LineRejection("NUL byte at \(nul + 1) (binary data?)") }
        }
        switch format {
        case .activity, .json:
            do { try json!.scan(line, into: &record) } catch { throw LineRejection(error.reason) }
        case .host:
            do { try json!.scan(line, into: &record) } catch { throw LineRejection(error.reason) }
            categoryRecord.reset()
            do { try category!.scan(line, into: &categoryRecord) } catch { throw LineRejection(error.reason) }
            guard case .string(let name)? = categoryRecord[0], let stream = LogSource.hostStreams[name] else {
                let found = categoryRecord[0].map { "'\($0)'" } ?? "none"
                throw LineRejection("host line has category \(found); expected one of \(LogSource.hostStreams.keys.sorted().joined(separator: ", "))")
            }
            if record.logSource != stream { record.logSource = stream }
        case .access: try access!.decode(line, into: &record)
        case .syslog: try syslog!.decode(line, into: &record)
        }
        if keepRawLine { record.raw = String(decoding: line, as: UTF8.self) }
    }

    /// The first byte that is non-ASCII or NUL, checking 32 bytes at a time (then eight, then the
    /// last eight at once), byte by byte only around a hit.
    @inline(__always)
    static func firstNonASCIIOrNUL(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = UnsafeRawPointer(line.baseAddress) else { return nil }
        let count = line.count
        // A high bit set (non-ASCII), or a zero byte.
        @inline(__always) func flagged(_ word: UInt64) -> UInt64 { (word & WordBytes.highs) | WordBytes.zeros(word) }
        @inline(__always) func word(_ at: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        var index = 0
        while index &+ 32 <= count {
            if flagged(word(index)) | flagged(word(index &+ 8)) | flagged(word(index &+ 16)) | flagged(word(index &+ 24)) != 0 { break }
            index &+= 32
        }
        while index &+ 8 <= count {
            if flagged(word(index)) != 0 { break }
            index &+= 8
        }
        // Fewer than eight bytes left (or a hit in the word at `index`): the last word, which
        // overlaps bytes already checked, clears the tail at once.
        if index &+ 8 > count, count >= 8, flagged(word(count &- 8)) == 0 { return nil }
        while index < count {
            let byte = line[index]
            if byte == 0 || byte >= 0x80 { return index }
            index &+= 1
        }
        return nil
    }

    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
