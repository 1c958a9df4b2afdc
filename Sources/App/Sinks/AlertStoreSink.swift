import EventPipeline
import SecurityModel
import SQLKit
import Synchronization

/// Stores every alert update in the `alerts` table, as the alert opens, grows and closes.
///
/// Remembers, while an alert is open, which row holds it (its own, or another node's row for
/// the same rule and group).
final class AlertStoreSink: EventSink, Sendable {
    let name = "alert-store"
    private let database: @Sendable () -> (any SQLDatabase)?
    /// Open alert id → the row holding it, and how many of its evidence ids are linked in `alert_events`.
    private let rows = Mutex<[String: (row: String, linked: Int)]>([:])
    private let latencies = Mutex(LatencyHistogram())
    private let clock: @Sendable () -> Timestamp

    init(database: @escaping @Sendable () -> (any SQLDatabase)?, clock: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.database = database
        self.clock = clock
    }

    /// From the event that opened or extended an alert (its last time, stamped before the request
    /// was answered) to the alert being stored: the detection latency a user sees.
    var latency: LatencyHistogram { latencies.withLock { $0 } }

    func write(_ batch: [SecurityAlert]) async throws {
        guard let sql = database() else {
            throw SinkUnavailable(message: "the database is not an SQL database")
        }
        let store = AlertStore(database: sql)
        for alert in batch {
            let known = rows.withLock { $0[alert.id] }
            let row = try await store.save(alert, rowID: known?.row)
            // Evidence only grows (the first ids, up to the engine's cap): link the new ones.
            let linked = min(known?.linked ?? 0, alert.evidence.count)
            try await AlertStore.link(events: Array(alert.evidence[linked...]), to: row, on: sql)
            if alert.status == .open {
                let milliseconds = Double(clock().microseconds &- alert.lastTime.microseconds) / 1000
                latencies.withLock { $0.record(milliseconds: milliseconds) }
            }
            rows.withLock { rows in
                if alert.status == .closed { rows[alert.id] = nil } else { rows[alert.id] = (row, alert.evidence.count) }
            }
        }
    }
}

/// A sink that cannot reach what it writes to.
struct SinkUnavailable: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
