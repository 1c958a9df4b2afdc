import LogFormats
import SecurityModel

/// Turns the lines of one log format into pipeline events: each line decoded by the format's
/// decoder into the fields the rules read (plus, for access and syslog lines, every field the
/// decoder knows, and for JSON lines the usual address, user and host keys), with the entities
/// those fields name (`source_ip` → an address, `user` → an account, `host` → a host; never a
/// process or file, which may be another host's) and the line itself.
///
/// Keep one per stream: the decoder remembers the layout of recent JSON lines.
public struct LogLineEvents: Sendable {
    public let format: LogFormat
    /// The name events carry as their host (`Computer` when a line has none): where the file is.
    public let hostname: String
    /// Longest raw line kept with an event, in bytes (the rest is cut at a character boundary).
    public static let maxRawBytes = 8192
    /// Keys of JSON lines read for entities even when no rule reads them.
    static let entityKeys = ["ip_address", "ip", "source_ip", "src_ip", "client_ip", "remote_addr", "username", "user", "user_name",
                             "host", "hostname", "computer"]

    private var fields: FieldTable
    private var rulesFields: FieldTable
    private var decoder: LineDecoder
    private var record: EventRecord
    private var entityKinds: [Entity.Kind?]

    /// - Parameter rulesFields: the fields the loaded rules read (`RuleSet.fields`).
    public init(format: LogFormat, rulesFields: FieldTable, hostname: String) {
        self.format = format
        self.hostname = hostname
        self.rulesFields = rulesFields
        (fields, decoder, record, entityKinds) = Self.build(format, rulesFields)
    }

    /// Follows a rule reload: the fields the new rules read.
    public mutating func update(rulesFields: FieldTable) {
        guard rulesFields != self.rulesFields else { return }
        self.rulesFields = rulesFields
        (fields, decoder, record, entityKinds) = Self.build(format, rulesFields)
    }

    /// The event of `line` (without its newline), timed `time` (the live intake stamps it again),
    /// or the reason the line is not one of this format.
    public mutating func event(_ line: UnsafeBufferPointer<UInt8>, id: String, time: Timestamp) throws(LineRejection) -> SecurityEvent {
        try decoder.decode(line, into: &record)
        var eventFields: [SecurityEvent.Field] = []
        var entities: [Entity] = []
        var hasHost = false
        for slot in 0..<fields.count {
            guard let value = record[slot] else { continue }
            let name = fields.names[slot]
            eventFields.append(.init(name, value))
            if let kind = entityKinds[slot], case .string(let text) = value, !text.isEmpty, text != "-" {
                let entity = Entity(kind, text)
                if kind == .host { hasHost = true }
                if !entities.contains(entity) { entities.append(entity) }
            }
        }
        if !hasHost { entities.insert(Entity(.host, hostname), at: 0) }
        let raw = String(decoding: UnsafeBufferPointer(rebasing: line[..<Self.cut(line, Self.maxRawBytes)]), as: UTF8.self)
        return SecurityEvent(time: time, id: id, source: record.logSource, fields: eventFields, entities: entities, raw: raw)
    }

    /// The event of one line as a file or a post has it (a trailing carriage return dropped), with a
    /// new id and the time now (the live intake stamps it again); nil for a blank line.
    public mutating func event(line: some Collection<UInt8>) -> Result<SecurityEvent, LineRejection>? {
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return nil }
        let now = Timestamp.now()
        return bytes.withUnsafeBufferPointer { pointer in
            do throws(LineRejection) { return .success(try event(pointer, id: EventID.make(at: now), time: now)) } catch { return .failure(error) }
        }
    }

    /// The end of the longest prefix of `line` of at most `limit` bytes that ends on a character boundary.
    static func cut(_ line: UnsafeBufferPointer<UInt8>, _ limit: Int) -> Int {
        guard line.count > limit else { return line.count }
        var end = limit
        // Step back over continuation bytes (10xxxxxx) to the start of a character.
        while end > 0 && line[end] & 0xC0 == 0x80 { end -= 1 }
        return end
    }

    private static func build(_ format: LogFormat, _ rulesFields: FieldTable) -> (FieldTable, LineDecoder, EventRecord, [Entity.Kind?]) {
        var table = rulesFields
        let extra: [String]
        switch format {
        case .access: extra = AccessLogDecoder.fieldNames
        case .syslog: extra = SyslogDecoder.fieldNames
        case .activity, .json, .host: extra = entityKeys
        }
        for name in extra { _ = table.slot(for: name) }
        let decoder = LineDecoder(format: format, fields: table, keepRawLine: false, referenceTime: .now())
        // Addresses, accounts and hosts only: a log line's process ids and paths may be another
        // host's, and host response acts on this one.
        let kinds = table.names.map { name in Entity.Kind(field: name).flatMap { [.ip, .user, .host].contains($0) ? $0 : nil } }
        return (table, decoder, EventRecord(slotCount: table.count), kinds)
    }
}
