import Foundation
import SecurityModel

/// Reads a line of the activity log (the original application's or SecMon's own) back into an `ActivityEvent`.
///
/// This is the exact, forgiving reader used by tools and tests; the detection engine's batch path
/// has its own faster scanner.
public struct ActivityLogDecoder: Sendable {
    public init() {}

    /// Decodes one line (without its newline).
    /// - Throws: `LogFormatError` naming the field and the problem.
    public func decode(_ line: String) throws -> ActivityEvent {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            throw LogFormatError(code: .invalidJSON, message: "not valid JSON; each line must be one JSON object")
        }
        guard let fields = object as? [String: Any] else {
            throw LogFormatError(code: .invalidJSON, message: "not a JSON object; each line must be one JSON object")
        }
        func string(_ name: String, required: Bool) throws -> String? {
            switch fields[name] {
            case nil, is NSNull:
                if required { throw LogFormatError(code: .missingField, message: "missing field '\(name)'") }
                return nil
            case let value as String: return value
            case let value as NSNumber: return value.stringValue
            default: throw LogFormatError(code: .wrongType, message: "field '\(name)' must be a string")
            }
        }
        let timeText = try string("timestamp", required: true)!
        guard let timestamp = Timestamp(iso8601: timeText) else {
            throw LogFormatError(code: .badTimestamp, message: "field 'timestamp' is not ISO 8601: \(timeText)")
        }
        return ActivityEvent(
            timestamp: timestamp,
            ipAddress: try string("ip_address", required: true)!,
            username: try string("username", required: true)!,
            action: ActivityAction(rawValue: try string("action", required: true)!),
            eventID: try string("event_id", required: false) ?? "",
            userID: try string("user_id", required: false),
            sessionRef: try string("session_id", required: false),
            method: try string("method", required: false),
            path: try string("path", required: false),
            status: (fields["status"] as? NSNumber)?.intValue,
            userAgent: try string("user_agent", required: false),
            durationMs: (fields["duration_ms"] as? NSNumber)?.doubleValue,
            attemptedUsername: try string("attempted_username", required: false)
        )
    }
}
