import DetectionEngine
import SecurityModel

/// Turns the server's own activity events into engine records, with the field names of the
/// activity log (`ip_address`, `username`, `action`, `attempted_username`, ...), so that rules
/// written for `secmon analyze` over `logs/app.log` run unchanged inside the server.
public struct ActivityEventRecord: Sendable {
    /// The activity log's fields, by their names in the log.
    enum Field: String, Sendable {
        case ipAddress = "ip_address", username, action, taskName, eventID = "event_id", userID = "user_id"
        case sessionID = "session_id", method, path, status, userAgent = "user_agent", durationMs = "duration_ms"
        case attemptedUsername = "attempted_username"
    }

    /// The fields the rules read, resolved once, with their slots (other names stay absent).
    private let slots: [(field: Field, slot: Int)]
    private let slotCount: Int

    public init(fields: FieldTable) {
        slots = fields.names.enumerated().compactMap { slot, name in Field(rawValue: name).map { ($0, slot) } }
        slotCount = fields.count
    }

    /// The record for `event`, referenced by its event id.
    public func record(_ event: ActivityEvent) -> EventRecord {
        var record = EventRecord(slotCount: slotCount, logSource: .activity, ref: .id(event.eventID))
        record.timestamp = event.timestamp
        for (field, slot) in slots {
            record[slot] = Self.value(field, event)
        }
        return record
    }

    static func value(_ field: Field, _ event: ActivityEvent) -> FieldValue? {
        func text(_ value: String?) -> FieldValue? { value.map { .string($0) } }
        switch field {
        case .ipAddress: return .string(event.ipAddress)
        case .username: return .string(event.username)
        case .action: return .string(event.action.rawValue)
        case .taskName: return .null
        case .eventID: return .string(event.eventID)
        case .userID: return text(event.userID)
        case .sessionID: return text(event.sessionRef)
        case .method: return text(event.method)
        case .path: return text(event.path)
        case .status: return event.status.map { .int(Int64($0)) }
        case .userAgent: return text(event.userAgent)
        case .durationMs: return event.durationMs.map { .double($0) }
        case .attemptedUsername: return text(event.attemptedUsername)
        }
    }
}
