import SecurityModel

/// Decodes lines of one format into ``EventRecord``s, filling the slots of a ``FieldTable``.
///
/// A value type with state: the JSON scanner remembers the layout of recent lines (see
/// ``JSONLineScanner/scan(_:into:)``), so keep one decoder per stream and decode in place.
public struct LineDecoder: Sendable {
    public let format: LogFormat
    private let keepRawLine: Bool
    private var json: JSONLineScanner?
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
        self.keepRawLine = keepRawLine
        json = (format == .activity || format == .json) ? JSONLineScanner(fields: fields, only: only) : nil
        access = format == .access ? AccessLogDecoder(fields: fields) : nil
        syslog = format == .syslog ? SyslogDecoder(fields: fields, referenceTime: referenceTime) : nil
    }

    /// Decodes `line` (without its newline) into `record`, which is reset first.
    public mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord) throws(LineRejection) {
        record.reset()
        record.logSource = format.logSource
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
        case .access: try access!.decode(line, into: &record)
        case .syslog: try syslog!.decode(line, into: &record)
        }
        if keepRawLine { record.raw = String(decoding: line, as: UTF8.self) }
    }

    /// The first byte that is non-ASCII or NUL, checking eight bytes at a time.
    @inline(__always)
    static func firstNonASCIIOrNUL(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = UnsafeRawPointer(line.baseAddress) else { return nil }
        let count = line.count
        var index = 0
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A high bit set (non-ASCII), or a zero byte.
            if (word & WordBytes.highs) | WordBytes.zeros(word) != 0 { break }
            index += 8
        }
        while index < count {
            let byte = line[index]
            if byte == 0 || byte >= 0x80 { return index }
            index += 1
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
