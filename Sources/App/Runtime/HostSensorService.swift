import EventPipeline
import HostSensors
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization

/// Runs the host sensors inside `secmon serve`: the monitor (a pipeline source), the minute
/// points of the metric history, and once an hour the history's downsampling and the expiry of
/// old metrics and host events.
final class HostSensorService: Service, Sendable {
    let monitor: HostMonitor
    private let intake: EventIntake
    private let metrics: @Sendable () -> HostMetricStore?
    private let events: @Sendable () -> HostEventStore?
    private let retentionSeconds: Int64
    private let logger: Logger
    private let aggregator = Locked(MetricAggregator())

    /// - Parameters:
    ///   - onEvent: where each event goes besides detection (the host log and `host_events`).
    init(configuration: HostMonitor.Configuration, intake: EventIntake, retentionDays: Int,
         metrics: @escaping @Sendable () -> HostMetricStore?, events: @escaping @Sendable () -> HostEventStore?,
         onEvent: @escaping @Sendable (SecurityEvent) -> Void, logger: Logger) {
        self.intake = intake
        self.metrics = metrics
        self.events = events
        self.retentionSeconds = Int64(max(1, retentionDays)) * 86_400
        self.logger = logger
        let aggregator = self.aggregator
        let hostname = configuration.hostname
        monitor = HostMonitor(configuration: configuration, onEvent: onEvent) { sample in
            guard let point = aggregator.withLock({ $0.add(sample) }), let store = metrics() else { return }
            Task {
                do { try await store.insert(point, computer: hostname) } catch {
                    logger.warning("host metrics not stored", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// The minute in progress (the charts' newest point).
    var currentPoint: MetricPoint? { aggregator.withLock { $0.current } }

    /// A value behind a lock, shareable by reference (a `Mutex` cannot be captured by a closure).
    final class Locked<Value: Sendable>: Sendable {
        private let mutex: Mutex<Value>
        init(_ value: Value) { mutex = Mutex(value) }
        func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown { [self] in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.monitor.run(into: self.intake) }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(3600))
                        await self.maintain()
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Downsamples and expires the metric history, and expires host events.
    func maintain(now: Timestamp = .now()) async {
        do {
            if let store = metrics() {
                let done = try await store.maintain(now: now, retentionSeconds: retentionSeconds)
                if done.deleted > 0 || done.created > 0 {
                    logger.info("host metrics downsampled", metadata: ["merged": "\(done.merged)", "into": "\(done.created)", "expired": "\(done.deleted)"])
                }
            }
            if let store = events() {
                try await store.prune(before: Timestamp(microseconds: now.microseconds - retentionSeconds * 1_000_000))
            }
        } catch {
            logger.warning("host history maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
