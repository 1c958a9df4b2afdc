import Incidents
import EventPipeline
import Fluent
import SecurityModel
import Synchronization

/// Files every alert into an incident (``IncidentStore/ingest(_:)``), then carries out its rule's
/// response policy for a new alert: a sink on the alert bus beside the alert store, with its own
/// queue, so a slow incident write never delays the alerts table and the other way round.
final class IncidentSink: EventSink, Sendable {
    let name = "incidents"
    private let database: @Sendable () -> any Database
    private let opened = Atomic<Int>(0)
    /// Open alerts already filed, and their event count then (an entry goes when the alert closes).
    private let filed = Mutex<[String: Int]>([:])

    /// Carries out the rule's response policy once an alert is filed (it needs the incident).
    private let responder: ActiveResponder?

    /// Told of every incident opened or joined.
    private let live: LiveFeed?

    /// Tells people of new incidents (a webhook), if configured.
    private let notifier: WebhookNotifier?

    init(database: @escaping @Sendable () -> any Database, live: LiveFeed? = nil, responder: ActiveResponder? = nil, notifier: WebhookNotifier? = nil) {
        self.database = database
        self.live = live
        self.responder = responder
        self.notifier = notifier
    }

    /// Incidents this node opened since it started.
    var incidentsOpened: Int { opened.load(ordering: .relaxed) }

    /// Carries out the rule's policy; the incident's viewers are told when it did something.
    private func respond(to alert: SecurityAlert, incident: String) async {
        guard let responder else { return }
        let taken = await responder.respond(to: alert, incident: incident)
        if !taken.isEmpty { await live?.incidentChanged(incident, on: database(), change: "response") }
    }

    func write(_ batch: [SecurityAlert]) async throws {
        let store = IncidentStore(database: database())
        for alert in batch {
            let previous = filed.withLock { $0[alert.id] }
            switch try await store.ingest(alert, previousCount: previous) {
            case .created(let incident):
                opened.add(1, ordering: .relaxed)
                await live?.incidentChanged(incident, on: database(), change: "created")
                notifier?.incidentOpened(.init(incident: incident, title: IncidentStore.title(for: alert), severity: IncidentSeverity(level: alert.level),
                                               rule: alert.rule, alert: alert.id, time: alert.firstTime))
                await respond(to: alert, incident: incident)
            case .joined(let incident):
                await live?.incidentChanged(incident, on: database(), change: "alert")
                await respond(to: alert, incident: incident)
            case .updated:
                break
            }
            filed.withLock { filed in
                if alert.status == .closed { filed[alert.id] = nil } else { filed[alert.id] = max(previous ?? 0, alert.eventCount) }
            }
        }
    }
}
