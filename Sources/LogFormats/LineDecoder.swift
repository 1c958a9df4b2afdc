import SecurityModel

/// Decodes lines of one format into ``EventRecord``s, filling the slots of a ``FieldTable``.
public struct LineDecoder: Sendable {
    public let format: LogFormat
    private let keepRawLine: Bool
    private let json: JSONLineScanner?
    private let access: AccessLogDecoder?
    private let syslog: SyslogDecoder?
    /// Lines longer than this are rejected without being decoded.
    public static let maxLineBytes = 1 << 20

    /// - Parameters:
    ///   - fields: the fields the rules read (see `RuleSet.fields`).
    ///   - keepRawLine: keep the line in the record (keyword rules need it).
    ///   - referenceTime: the "now" that places year-less syslog times.
    public init(format: LogFormat, fields: FieldTable, keepRawLine: Bool, referenceTime: Timestamp) {
        self.format = format
        self.keepRawLine = keepRawLine
        json = (format == .activity || format == .json) ? JSONLineScanner(fields: fields) : nil
        access = format == .access ? AccessLogDecoder(fields: fields) : nil
        syslog = format == .syslog ? SyslogDecoder(fields: fields, referenceTime: referenceTime) : nil
    }

    /// Decodes `line` (without its newline) into `record`, which is reset first.
    public func decode(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord) throws(LineRejection) {
        record.reset()
        record.logSource = format.logSource
        if line.count > Self.maxLineBytes {
            throw LineRejection("line of \(line.count) bytes is longer than the \(Self.maxLineBytes)-byte limit")
        }
        // Invalid UTF-8 is rejected here so that no rule sees replacement characters.
        var index = 0
        while index < line.count {
            if line[index] >= 0x80 {
                if !Self.isValidUTF8(UnsafeBufferPointer(rebasing: line[index...])) {
                    throw LineRejection("invalid UTF-8 (binary data?)")
                }
                break
            }
            if line[index] == 0 { throw LineRejection("NUL byte at \(index + 1) (binary data?)") }
            index += 1
        }
        switch format {
        case .activity, .json:
            do { try json!.scan(line, into: &record) } catch { throw LineRejection(error.reason) }
        case .access: try access!.decode(line, into: &record)
        case .syslog: try syslog!.decode(line, into: &record)
        }
        if keepRawLine { record.raw = String(decoding: line, as: UTF8.self) }
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
