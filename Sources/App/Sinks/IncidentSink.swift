import EventPipeline
import Fluent
import SecurityModel
import Synchronization

/// Files every alert into an incident (``IncidentStore/ingest(_:)``): a sink on the alert bus
/// beside the alert store, with its own queue, so a slow incident write never delays the alerts
/// table and the other way round.
final class IncidentSink: EventSink, Sendable {
    let name = "incidents"
    private let database: @Sendable () -> any Database
    private let opened = Atomic<Int>(0)
    /// Open alerts already filed, and their event count then (an entry goes when the alert closes).
    private let filed = Mutex<[String: Int]>([:])

    init(database: @escaping @Sendable () -> any Database) {
        self.database = database
    }

    /// Incidents this node opened since it started.
    var incidentsOpened: Int { opened.load(ordering: .relaxed) }

    func write(_ batch: [SecurityAlert]) async throws {
        let store = IncidentStore(database: database())
        for alert in batch {
            let previous = filed.withLock { $0[alert.id] }
            if case .created = try await store.ingest(alert, previousCount: previous) {
                opened.add(1, ordering: .relaxed)
            }
            filed.withLock { filed in
                if alert.status == .closed { filed[alert.id] = nil } else { filed[alert.id] = max(previous ?? 0, alert.eventCount) }
            }
        }
    }
}
