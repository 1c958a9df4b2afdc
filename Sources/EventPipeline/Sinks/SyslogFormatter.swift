import Foundation
import LogFormats
import SecurityModel

/// Alerts as RFC 5424 syslog messages, for a SIEM's syslog input (rsyslog, syslog-ng, Splunk,
/// Graylog, Elastic): facility `authpriv` (10), the severity from the alert's level, app-name
/// `secmon`, msgid `ALERT`, the alert's id, rule, level, status and event count as structured data
/// (SD-ID `secmon@32473`: 32473 is the enterprise number IANA reserves for examples), and the alert
/// as one JSON object as the message. No I/O: ``frame(_:)`` adds TCP's octet counting (RFC 6587).
public struct SyslogFormatter: Sendable {
    /// The HOSTNAME field (printable ASCII without spaces, at most 255 bytes).
    public let hostname: String
    /// The PROCID field.
    public let processID: Int32
    /// Longest message, in bytes: what every syslog receiver takes (rsyslog's default is 8 KiB).
    public static let maxBytes = 8192
    /// Most entities and evidence ids one message lists.
    public static let maxListed = 20
    /// `authpriv`: security messages, kept from other users on the receiving host.
    public static let facility = 10

    public init(hostname: String, processID: Int32 = getpid()) {
        let printable = hostname.utf8.filter { $0 > 0x20 && $0 < 0x7f }.prefix(255)
        self.hostname = printable.isEmpty ? "-" : String(decoding: printable, as: UTF8.self)
        self.processID = processID
    }

    /// The syslog severity of a level: critical 2 (crit), high 3 (err), medium 4 (warning),
    /// low 5 (notice), informational 6 (info).
    public static func severity(_ level: Severity) -> Int {
        switch level {
        case .critical: 2
        case .high: 3
        case .medium: 4
        case .low: 5
        case .informational: 6
        }
    }

    /// The message for `alert`, at most ``maxBytes`` bytes (evidence ids, then entities, then the
    /// title are left out or cut to fit; the JSON stays whole).
    public func message(_ alert: SecurityAlert) -> [UInt8] {
        var header = "<\(Self.facility * 8 + Self.severity(alert.level))>1 \(alert.lastTime.iso8601)Z \(hostname) secmon \(processID) ALERT "
        header += "[secmon@32473 id=\"\(Self.param(alert.id))\" rule=\"\(Self.param(alert.rule))\" level=\"\(alert.level.rawValue)\""
        header += " status=\"\(alert.status.rawValue)\" events=\"\(alert.eventCount)\"] "
        var out = Array(header.utf8)
        for (entities, evidence, titleBytes) in [(Self.maxListed, Self.maxListed, 1024), (Self.maxListed, 0, 1024), (0, 0, 200)] {
            let body = json(alert, entities: entities, evidence: evidence, titleBytes: titleBytes)
            if out.count + body.count <= Self.maxBytes || entities == 0 {
                out += body
                break
            }
        }
        return out
    }

    /// `message` framed for TCP: its length in decimal, a space, the message (RFC 6587 octet counting).
    public static func frame(_ message: [UInt8]) -> [UInt8] {
        Array("\(message.count) ".utf8) + message
    }

    private func json(_ alert: SecurityAlert, entities: Int, evidence: Int, titleBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        func key(_ name: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func string(_ name: String, _ value: String, first: Bool = false) {
            key(name, first: first)
            JSONText.appendQuoted(value, to: &out)
        }
        out.append(UInt8(ascii: "{"))
        string("alert_id", alert.id, first: true)
        string("rule", alert.rule)
        string("title", String(decoding: alert.title.utf8.prefix(titleBytes), as: UTF8.self))
        string("level", alert.level.rawValue)
        string("status", alert.status.rawValue)
        string("first_time", alert.firstTime.iso8601 + "Z")
        string("last_time", alert.lastTime.iso8601 + "Z")
        key("event_count")
        out += Array(String(alert.eventCount).utf8)
        string("node", alert.node)
        if let note = alert.note { string("note", String(decoding: note.utf8.prefix(512), as: UTF8.self)) }
        key("entities")
        out.append(UInt8(ascii: "["))
        for (index, entity) in alert.entities.prefix(entities).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(String(decoding: entity.description.utf8.prefix(300), as: UTF8.self), to: &out)
        }
        out.append(UInt8(ascii: "]"))
        key("evidence")
        out.append(UInt8(ascii: "["))
        for (index, id) in alert.evidence.prefix(evidence).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(String(decoding: id.utf8.prefix(64), as: UTF8.self), to: &out)
        }
        out.append(UInt8(ascii: "]"))
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// An SD-PARAM value: `"`, `\` and `]` escaped with a backslash (RFC 5424 6.3.3), at most 128 bytes.
    static func param(_ value: String) -> String {
        var out = ""
        for scalar in String(decoding: value.utf8.prefix(128), as: UTF8.self).unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar == "]" { out.append("\\") }
            if scalar.value < 0x20 || scalar.value == 0x7f { continue }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
