import SecurityModel

/// Decodes syslog lines (RFC 3164 as in /var/log/auth.log, with or without `<PRI>`, with classic
/// `Oct 11 22:14:15` or high-precision ISO times; and RFC 5424), and parses sshd messages.
///
/// Fields: `host`, `program`, `pid`, `message`; for sshd also `user`, `source_ip`, `source_port`,
/// `outcome` (`success`, `failure`, `invalid_user`, `disconnect`, `max_attempts`, `connect`) and
/// `auth_method`. sshd lines belong to the `linux/sshd` logsource, the rest to `linux/syslog`.
public struct SyslogDecoder: Sendable {
    public static let fieldNames = ["host", "program", "pid", "message", "user", "source_ip", "source_port", "outcome", "auth_method"]
    private let slots: [Int?]
    private let referenceTime: Timestamp

    /// - Parameter referenceTime: RFC 3164 times have no year: they are placed in the year of
    ///   `referenceTime`, or the year before when that would put them more than a day after it.
    public init(fields: FieldTable, referenceTime: Timestamp) {
        slots = Self.fieldNames.map { fields.existingSlot($0) }
        self.referenceTime = referenceTime
    }

    public func decode(_ line: UnsafeBufferPointer<UInt8>, into record: inout EventRecord) throws(LineRejection) {
        var p = ByteLine(bytes: line)
        if p.peek == UInt8(ascii: "<") {
            guard let close = p.upTo(UInt8(ascii: ">")), close.count >= 2, close.count <= 4 else {
                throw LineRejection("bad <PRI> at the start of the line")
            }
        }
        var host: Range<Int>?, program: Range<Int>?, pid: Range<Int>?, message: Range<Int>
        if p.peek == UInt8(ascii: "1"), p.index + 1 < line.count, line[p.index + 1] == 0x20 {
            // RFC 5424: VERSION TIMESTAMP HOST APP PROCID MSGID [SD] MSG
            p.index += 2
            guard let timeRange = p.token(), let time = Timestamp(iso8601Bytes: UnsafeBufferPointer(rebasing: line[timeRange])) else {
                throw LineRejection("RFC 5424 line without a valid ISO-8601 time")
            }
            record.timestamp = time
            host = p.token()
            program = p.token()
            pid = p.token()
            _ = p.token()  // MSGID
            p.skipSpaces()
            if p.peek == UInt8(ascii: "[") {
                // Structured data: skip [..] groups, honouring escaped brackets.
                // A line may end inside it: the cursor never passes the end (it used to, and the
                // message range below then trapped).
                while p.peek == UInt8(ascii: "[") {
                    while !p.atEnd, p.peek != UInt8(ascii: "]") {
                        if p.peek == UInt8(ascii: "\\") { p.index += 1 }
                        if !p.atEnd { p.index += 1 }
                    }
                    guard !p.atEnd else { throw LineRejection("RFC 5424 structured data is not closed with ']'") }
                    p.index += 1
                }
            } else {
                _ = p.token()  // "-"
            }
            p.skipSpaces()
            if p.index + 3 <= line.count, line[p.index] == 0xEF, line[p.index + 1] == 0xBB, line[p.index + 2] == 0xBF { p.index += 3 }
            message = min(p.index, line.count)..<line.count
        } else {
            guard let time = parseTime(&p) else {
                throw LineRejection("not a syslog line: expected a time like 'Oct 11 22:14:15' or an ISO-8601 time")
            }
            record.timestamp = Timestamp(microseconds: time)
            host = p.token()
            p.skipSpaces()
            // TAG: program[pid]: or program:
            let tagStart = p.index
            while !p.atEnd, ![UInt8(ascii: "["), UInt8(ascii: ":"), 0x20].contains(p.peek) { p.index += 1 }
            program = tagStart..<p.index
            if p.peek == UInt8(ascii: "[") {
                p.index += 1
                pid = p.upTo(UInt8(ascii: "]"))
            }
            _ = p.expect(UInt8(ascii: ":"))
            p.skipSpaces()
            message = p.index..<line.count
        }
        func dash(_ range: Range<Int>?) -> Range<Int>? {
            guard let range, !range.isEmpty, !(range.count == 1 && line[range.lowerBound] == UInt8(ascii: "-")) else { return nil }
            return range
        }
        host = dash(host); program = dash(program); pid = dash(pid)
        func set(_ index: Int, _ value: @autoclosure () -> FieldValue?) {
            if let slot = slots[index] { record[slot] = value() }
        }
        set(0, host.map { .string(p.string($0)) })
        set(1, program.map { .string(p.string($0)) })
        set(2, pid.map { p.integer($0).map(FieldValue.int) ?? .string(p.string($0)) })
        set(3, .string(p.string(message)))
        let isSSHD = program.map { p.string($0) == "sshd" || p.string($0).hasPrefix("sshd-") } ?? false
        record.logSource = isSSHD ? .sshd : .syslog
        if isSSHD, slots[4...].contains(where: { $0 != nil }) {
            let parsed = SSHDMessage(p.string(message))
            set(4, parsed.user.map { .string($0) })
            set(5, parsed.sourceIP.map { .string($0) })
            set(6, parsed.sourcePort.map { .int($0) })
            set(7, parsed.outcome.map { .string($0) })
            set(8, parsed.authMethod.map { .string($0) })
        }
    }

    /// `Mmm dd hh:mm:ss` (RFC 3164) or an ISO-8601 time token.
    private func parseTime(_ p: inout ByteLine) -> Int64? {
        let s = p.index
        let line = p.bytes
        if let month = p.month(at: s), s + 15 <= line.count, line[s + 3] == 0x20 {
            let dayText = line[s + 4] == 0x20 ? p.digits(s + 5, 1) : p.digits(s + 4, 2)
            guard let day = dayText, line[s + 6] == 0x20, line[s + 9] == UInt8(ascii: ":"), line[s + 12] == UInt8(ascii: ":"),
                  let hour = p.digits(s + 7, 2), let minute = p.digits(s + 10, 2), let second = p.digits(s + 13, 2),
                  (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
            p.index = s + 15
            var fraction: Int64 = 0
            if p.peek == UInt8(ascii: ".") {
                p.index += 1
                var digits = 0
                while !p.atEnd, p.peek &- 0x30 < 10 { if digits < 6 { fraction = fraction * 10 + Int64(p.peek - 0x30) }; digits += 1; p.index += 1 }
                while digits < 6 { fraction *= 10; digits += 1 }
            }
            let referenceYear = Timestamp.civilYear(of: referenceTime)
            func at(_ year: Int64) -> Int64 {
                (Timestamp.days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000 + fraction
            }
            let time = at(referenceYear)
            return time > referenceTime.microseconds + 86_400_000_000 ? at(referenceYear - 1) : time
        }
        guard let token = p.token() else { return nil }
        return Timestamp(iso8601Bytes: UnsafeBufferPointer(rebasing: line[token]))?.microseconds
    }
}
