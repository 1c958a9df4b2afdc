import DetectionEngine
import SecurityModel

/// Turns the server's own activity events into engine records, with the field names of the
/// activity log (`ip_address`, `username`, `action`, `attempted_username`, ...), so that rules
/// written for `secmon analyze` over `logs/app.log` run unchanged inside the server.
public struct ActivityEventRecord: Sendable {
    private let slots: [(name: String, slot: Int)]
    private let slotCount: Int

    public init(fields: FieldTable) {
        slots = fields.names.enumerated().map { ($0.element, $0.offset) }
        slotCount = fields.count
    }

    /// The record for `event`, referenced by its event id.
    public func record(_ event: ActivityEvent) -> EventRecord {
        var record = EventRecord(slotCount: slotCount, logSource: .activity, ref: .id(event.eventID))
        record.timestamp = event.timestamp
        for (name, slot) in slots {
            record[slot] = Self.value(name, event)
        }
        return record
    }

    static func value(_ name: String, _ event: ActivityEvent) -> FieldValue? {
        func text(_ value: String?) -> FieldValue? { value.map { .string($0) } }
        switch name {
        case "ip_address": return .string(event.ipAddress)
        case "username": return .string(event.username)
        case "action": return .string(event.action.rawValue)
        case "taskName": return .null
        case "event_id": return .string(event.eventID)
        case "user_id": return text(event.userID)
        case "session_id": return text(event.sessionRef)
        case "method": return text(event.method)
        case "path": return text(event.path)
        case "status": return event.status.map { .int(Int64($0)) }
        case "user_agent": return text(event.userAgent)
        case "duration_ms": return event.durationMs.map { .double($0) }
        case "attempted_username": return text(event.attemptedUsername)
        default: return nil
        }
    }
}
