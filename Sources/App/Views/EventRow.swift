import SecurityModel

/// One activity line as pages and the API show it.
struct EventRow: Codable, Sendable {
    var eventID: String
    var timestamp: String
    var ipAddress: String
    var username: String
    var action: String
    var method: String?
    var path: String?
    var status: Int?
    var userAgent: String?
    var durationMs: Double?

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", timestamp, ipAddress = "ip_address", username, action, method, path, status
        case userAgent = "user_agent", durationMs = "duration_ms"
    }

    init(_ event: ActivityEvent) {
        eventID = event.eventID
        timestamp = event.timestamp.iso8601
        ipAddress = event.ipAddress
        username = event.username
        action = event.action.rawValue
        method = event.method
        path = event.path
        status = event.status
        userAgent = event.userAgent
        durationMs = event.durationMs
    }
}
