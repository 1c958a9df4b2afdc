import Foundation

/// One message of the live feed: `{"type": "alert", "data": {...}}`. Values are a small JSON
/// model, encoded once per message whatever the number of clients.
struct LiveMessage: Sendable {
    enum Value: Sendable, Encodable {
        case string(String), int(Int), double(Double), bool(Bool), null
        case object([String: Value]), array([Value])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let v): try container.encode(v)
            case .int(let v): try container.encode(v)
            case .double(let v): try container.encode(v)
            case .bool(let v): try container.encode(v)
            case .null: try container.encodeNil()
            case .object(let v): try container.encode(v)
            case .array(let v): try container.encode(v)
            }
        }
    }

    var type: String
    var data: [String: Value]

    func json() -> String {
        struct Wire: Encodable { var type: String; var data: [String: Value] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let bytes = try? encoder.encode(Wire(type: type, data: data)) else { return "{\"type\":\"\(type)\",\"data\":{}}" }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The pipeline's counters sent every few seconds.
struct LiveStats: Sendable {
    var events: Int
    var droppedEvents: Int
    var evictedGroups: Int
    var alerts: Int
    var openAlerts: Int
    var blocked: Int
    var limited: Int
    var throttled: Int

    func fields(feed: LiveFeed.Statistics) -> [String: LiveMessage.Value] {
        ["events": .int(events), "dropped_events": .int(droppedEvents), "evicted_groups": .int(evictedGroups), "alerts": .int(alerts),
         "open_alerts": .int(openAlerts), "blocked_requests": .int(blocked), "rate_limited_requests": .int(limited),
         "throttled_logins": .int(throttled), "live_clients": .int(feed.connected), "live_dropped_slow": .int(feed.droppedSlow),
         "events_skipped": .int(feed.eventsSkipped)]
    }
}
