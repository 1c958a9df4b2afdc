import SecurityModel

/// Decodes nginx/Apache access log lines, combined or common format:
/// `IP - user [10/Oct/2026:13:55:36 +0000] "GET /path?q HTTP/1.1" 200 2326 "referer" "agent"`.
///
/// Fields use Sigma's webserver names: `c-ip`, `cs-username`, `cs-method`, `cs-uri-query` (the
/// whole request target, as written), `cs-uri-stem` (path only), `cs-version`, `sc-status`,
/// `sc-bytes`, `cs-referer`, `cs-user-agent`. `-` means absent.
public struct AccessLogDecoder: Sendable {
    public static let fieldNames = ["c-ip", "cs-username", "cs-method", "cs-uri-query", "cs-uri-stem",
                                    "cs-version", "sc-status", "sc-bytes", "cs-referer", "cs-user-agent"]
    private let slots: [Int?]

    public init(fields: FieldTable) {
        slots = Self.fieldNames.map { fields.existingSlot($0) }
    }

    public func decode(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord) throws(LineRejection) {
        var p = ByteLine(bytes: line)
        guard let ip = p.token() else { throw LineRejection("empty line") }
        guard p.token() != nil, let user = p.token() else { throw LineRejection("not an access log line: expected 'IP ident user [time]'") }
        p.skipSpaces()
        guard p.expect(UInt8(ascii: "[")), let timeRange = p.upTo(UInt8(ascii: "]")) else {
            throw LineRejection("not an access log line: no [time] after the client address")
        }
        guard let time = Self.parseTime(line, timeRange) else {
            throw LineRejection("bad time '\(p.string(timeRange))' (expected 10/Oct/2026:13:55:36 +0000)")
        }
        p.skipSpaces()
        guard let request = p.quoted() else { throw LineRejection("no quoted request (\"METHOD target HTTP/x\") after the time") }
        p.skipSpaces()
        guard let statusRange = p.token(), let status = p.integer(statusRange) else { throw LineRejection("no numeric status after the request") }
        let bytesRange = p.token()
        p.skipSpaces()
        let referer = p.atEnd ? nil : p.quoted()
        p.skipSpaces()
        let agent = p.atEnd ? nil : p.quoted()

        record.timestamp = Timestamp(microseconds: time)
        func set(_ index: Int, _ value: @autoclosure () -> FieldValue?) {
            if let slot = slots[index] { record[slot] = value() }
        }
        // Text: ASCII (valid UTF-8 as it stands) is held as its bytes (no `String` is made unless a rule reads it as a value);
        // `-` is absent. The record was reset, so absent fields need no setting.
        func text(_ index: Int, _ range: Range<Int>?) {
            guard let slot = slots[index], let range, !(range.count == 1 && line[range.lowerBound] == UInt8(ascii: "-")) else { return }
            let bytes = UnsafeBufferPointer(rebasing: line[range])
            if LineDecoder.firstNonASCIIOrNUL(bytes) == nil {
                record.setText(bytes, slot: slot)
            } else {
                record[slot] = .string(p.string(range))
            }
        }
        text(0, ip)
        text(1, user)
        // Request: METHOD SP target SP version; anything else keeps the whole text as the target.
        var r = ByteLine(bytes: UnsafeBufferPointer(rebasing: line[request]))
        let method = r.token(), target = r.token(), version = r.token()
        let offset = request.lowerBound
        func shift(_ range: Range<Int>?) -> Range<Int>? { range.map { ($0.lowerBound + offset)..<($0.upperBound + offset) } }
        if let method, let target, r.token() == nil {
            text(2, shift(method))
            text(3, shift(target))
            let targetRange = shift(target)!
            var stemEnd = targetRange.lowerBound
            while stemEnd < targetRange.upperBound, line[stemEnd] != UInt8(ascii: "?") { stemEnd += 1 }
            if let slot = slots[4] {
                let stem = UnsafeBufferPointer(rebasing: line[targetRange.lowerBound..<stemEnd])
                if LineDecoder.firstNonASCIIOrNUL(stem) == nil { record.setText(stem, slot: slot) } else { record[slot] = .string(p.string(targetRange.lowerBound..<stemEnd)) }
            }
            text(5, shift(version))
        } else {
            text(3, request)
        }
        set(6, .int(status))
        set(7, bytesRange.flatMap { p.integer($0) }.map { FieldValue.int($0) })
        text(8, referer)
        text(9, agent)
    }

    /// `10/Oct/2026:13:55:36 +0000` as microseconds since the epoch (UTC).
    static func parseTime(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        let p = ByteLine(bytes: bytes)
        let s = range.lowerBound
        guard range.count >= 20, bytes[s + 2] == UInt8(ascii: "/"), bytes[s + 6] == UInt8(ascii: "/"),
              bytes[s + 11] == UInt8(ascii: ":"),
              let day = p.digits(s, 2), let month = p.month(at: s + 3), let year = p.digits(s + 7, 4),
              let hour = p.digits(s + 12, 2), let minute = p.digits(s + 15, 2), let second = p.digits(s + 18, 2),
              (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var offset: Int64 = 0
        if range.count >= 26, bytes[s + 20] == 0x20 {
            let sign: Int64 = bytes[s + 21] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = p.digits(s + 22, 2), let om = p.digits(s + 24, 2) else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        }
        let days = Timestamp.days(fromCivil: year, month, day)
        return (days * 86_400 + hour * 3600 + minute * 60 + second - offset) * 1_000_000
    }
}

/// Why a line could not be decoded.
public struct LineRejection: Error, Sendable, Hashable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
