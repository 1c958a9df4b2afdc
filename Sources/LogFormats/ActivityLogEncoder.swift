import SecurityModel

/// Turns an `ActivityEvent` into one line of `logs/app.log`.
///
/// The original application's fields come first, in its order and spelling
/// (`{"timestamp": ..., "ip_address": ..., "username": ..., "action": ..., "taskName": null`, with
/// `", "` between fields as Python's `json.dumps` writes), so that tools written for the original log
/// keep working; SecMon's fields follow. Fields without a value are left out rather than written as null.
public struct ActivityLogEncoder: Sendable {
    public init() {}

    /// The line for `event`, including the trailing newline, as UTF-8 bytes.
    public func encode(_ event: ActivityEvent) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(384)
        encode(event, into: &out)
        return out
    }

    /// Appends the line for `event`, including the trailing newline, to `out`.
    public func encode(_ event: ActivityEvent, into out: inout [UInt8]) {
        func key(_ name: StaticString, first: Bool = false) {
            if !first { out.append(0x2C); out.append(0x20) }
            out.append(0x22)
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(0x22); out.append(0x3A); out.append(0x20)
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONText.appendQuoted(value, to: &out)
        }
        out.append(0x7B)
        key("timestamp", first: true)
        JSONText.appendQuoted(event.timestamp.iso8601, to: &out)
        string("ip_address", event.ipAddress)
        string("username", event.username)
        string("action", event.action.rawValue)
        key("taskName")
        out.append(contentsOf: "null".utf8)
        string("event_id", event.eventID)
        string("user_id", event.userID)
        string("session_id", event.sessionRef)
        string("method", event.method)
        string("path", event.path)
        if let status = event.status {
            key("status")
            out.append(contentsOf: String(status).utf8)
        }
        string("user_agent", event.userAgent)
        if let duration = event.durationMs {
            key("duration_ms")
            out.append(contentsOf: ActivityLogEncoder.formatMilliseconds(duration).utf8)
        }
        string("attempted_username", event.attemptedUsername)
        out.append(0x7D)
        out.append(0x0A)
    }

    /// Milliseconds with three decimals (microsecond resolution), never in exponent form.
    static func formatMilliseconds(_ ms: Double) -> String {
        let micros = Int64((max(0, ms) * 1000).rounded())
        let frac = micros % 1000
        let fracText = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
        return "\(micros / 1000).\(fracText)"
    }
}
