import EventPipeline
import Fluent
import Incidents
import SecurityModel

extension LiveFeed {
    /// An alert opened, grew or closed (viewers and up: what the alert list shows).
    func publish(alert: SecurityAlert) {
        publish(LiveMessage(type: "alert", data: [
            "id": .string(alert.id), "rule": .string(alert.rule), "title": .string(alert.title), "level": .string(alert.level.rawValue),
            "status": .string(alert.status.rawValue), "events": .int(alert.eventCount), "first": .string(alert.firstTime.iso8601),
            "last": .string(alert.lastTime.iso8601), "about": .array(alert.entities.map { .string("\($0.kind.rawValue) \($0.value)") }),
            "note": alert.note.map { .string($0) } ?? .null,
            "explanation": alert.explanation.map { .string($0) } ?? .null,
        ]))
    }

    /// An incident was opened or changed (`change`: created, alert, status, ...).
    func publish(incident: IncidentRecord, change: String) {
        publish(LiveMessage(type: "incident", data: [
            "id": .string(incident.id), "title": .string(incident.title), "severity": .string(incident.severity.rawValue),
            "status": .string(incident.status.rawValue), "alerts": .int(incident.alertCount), "events": .int(Int(incident.eventCount)),
            "assignee": incident.assignee.map { .string($0) } ?? .null, "change": .string(change),
        ]))
    }

    /// Reads incident `id` and publishes it (after an analyst's change).
    func incidentChanged(_ id: String, on database: any Database, change: String) async {
        guard let record = try? await IncidentStore(database: database).find(id) else { return }
        publish(incident: record, change: change)
    }

    /// What active response holds now (analysts and up: the Response page's audience).
    func publish(responses blocks: Int, limits: Int, watched: Int) {
        publish(LiveMessage(type: "responses", data: ["blocks": .int(blocks), "rate_limits": .int(limits), "watched": .int(watched)]),
                audience: .analyst)
    }
}

/// Sends every alert update to the live feed: a sink on the alert bus beside the stores (its
/// own queue: a burst of alerts never waits for the browsers).
final class LiveFeedSink: EventSink, Sendable {
    let name = "live"
    let feed: LiveFeed

    init(feed: LiveFeed) { self.feed = feed }

    func write(_ batch: [SecurityAlert]) async throws {
        for alert in batch { feed.publish(alert: alert) }
    }
}
