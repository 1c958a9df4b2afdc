import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import Logging
import SecurityModel
import Synchronization

/// Detection inside the server: every activity event the server records runs through the same
/// engine and rules as `secmon analyze`, and the alerts land in the `alerts` table.
///
/// The engine is a value type behind a lock (events arrive from many event loops). A ticker
/// advances its clock once a second, so buffered events are released and quiet alerts close
/// without waiting for the next event.
public final class LiveDetection: Sendable {
    private struct State: Sendable {
        var engine: DetectionEngine
        var ids: [Int: String] = [:]
    }

    /// The rules in use.
    public let rules: RuleSet
    private let state: Mutex<State>
    private let builder: ActivityEventRecord
    private let rows: BatchingWriter<AlertStore.Row>

    init(rules: RuleSet, latenessSeconds: Double, rows: BatchingWriter<AlertStore.Row>) {
        self.rules = rules
        self.state = Mutex(State(engine: DetectionEngine(rules: rules, latenessSeconds: latenessSeconds)))
        self.builder = ActivityEventRecord(fields: rules.fields)
        self.rows = rows
    }

    /// Runs `event` through the rules.
    public func observe(_ event: ActivityEvent) {
        let record = builder.record(event)
        let updates = state.withLock { state -> [AlertStore.Row] in
            state.engine.process(record)
            return Self.rows(&state)
        }
        for row in updates { rows.submit(row) }
    }

    /// Moves the engine's clock to `now` (releases late-buffered events, closes quiet alerts).
    public func advance(to now: Timestamp) {
        let updates = state.withLock { state -> [AlertStore.Row] in
            state.engine.advance(to: now)
            return Self.rows(&state)
        }
        for row in updates { rows.submit(row) }
    }

    /// Engine counters (events, matches, late, alerts, live groups).
    public var statistics: DetectionEngine.Statistics { state.withLock { $0.engine.statistics } }

    /// Waits until every alert raised so far is stored.
    public func flush() async throws { try await rows.flush() }

    func shutdown() async { await rows.shutdown() }

    private static func rows(_ state: inout State) -> [AlertStore.Row] {
        guard state.engine.hasUpdates else { return [] }
        return state.engine.drainUpdates().map { update in
            let (alert, status): (Alert, String)
            switch update {
            case .opened(let a): (alert, status) = (a, "open")
            case .closed(let a): (alert, status) = (a, "closed")
            }
            let id: String
            if let known = state.ids[alert.number] { id = known } else {
                id = EventID.make(at: alert.firstTime)
                state.ids[alert.number] = id
            }
            if status == "closed" { state.ids[alert.number] = nil }
            let events = alert.events.map { $0.id ?? $0.description }
            return AlertStore.Row(id: id, rule: alert.rule.label, title: alert.rule.title, level: alert.level,
                                  group: alert.groupDescription, firstTime: alert.firstTime, lastTime: alert.lastTime,
                                  eventCount: alert.eventCount, events: events, status: status)
        }
    }
}
