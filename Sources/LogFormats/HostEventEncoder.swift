import SecurityModel

/// Turns a host sensor's event into one line of `logs/host.log`: `timestamp`, `event_id` and
/// `category` first, then the event's fields in its order under Sigma's names. `secmon analyze
/// --format host` reads the file back into the same events.
public struct HostEventEncoder: Sendable {
    public init() {}

    /// The line for `event`, with its trailing newline, as UTF-8 bytes.
    public func encode(_ event: SecurityEvent) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512)
        out += "{\"timestamp\": ".utf8
        JSONText.appendQuoted(event.time.iso8601, to: &out)
        out += ", \"event_id\": ".utf8
        JSONText.appendQuoted(event.id, to: &out)
        out += ", \"category\": ".utf8
        JSONText.appendQuoted(event.source.category ?? "", to: &out)
        for field in event.fields {
            out += ", ".utf8
            JSONText.appendQuoted(field.name, to: &out)
            out += ": ".utf8
            append(field.value, to: &out)
        }
        out += "}\n".utf8
        return out
    }

    private func append(_ value: FieldValue, to out: inout [UInt8]) {
        switch value {
        case .string(let text): JSONText.appendQuoted(text, to: &out)
        case .int(let number): out += String(number).utf8
        case .double(let number): out += (number.isFinite ? String(number) : "null").utf8
        case .bool(let flag): out += (flag ? "true" : "false").utf8
        case .null: out += "null".utf8
        case .list(let values):
            out.append(0x5B)
            for (index, element) in values.enumerated() {
                if index > 0 { out += ", ".utf8 }
                append(element, to: &out)
            }
            out.append(0x5D)
        }
    }
}
