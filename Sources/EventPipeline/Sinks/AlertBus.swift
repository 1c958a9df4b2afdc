import Logging
import ServiceLifecycle
import SecurityModel
import Synchronization

/// Fans alerts out to every sink: each has its own queue, bounded by bytes, and its own worker,
/// so a slow or failing sink never holds up the detection stage or the other sinks.
///
/// Publishing never waits. A sink's batch is coalesced before it is written (several updates of
/// one alert become its newest state), so a sink that falls behind catches up in few writes.
/// On graceful shutdown each worker writes what is queued (within `drainSeconds`) and stops.
public final class AlertBus: Service, Sendable {
    /// One sink's counters.
    public struct SinkStatistics: Sendable, Equatable {
        public var name: String
        /// Updates handed to the sink's queue.
        public var published = 0
        /// Updates written (after coalescing, one per alert per batch).
        public var written = 0
        /// Batches written.
        public var batches = 0
        /// Writes that failed (or timed out) and were retried.
        public var failures = 0
        /// Updates dropped because the queue was full or shutdown could not deliver them.
        public var dropped = 0
        /// Updates waiting now, and their bytes.
        public var queued = 0
        public var queuedBytes = 0
        /// The last failure, for the health report.
        public var lastError: String?
    }

    private final class Worker: Sendable {
        struct State {
            var queue: BoundedQueue<SecurityAlert>
            var stats: SinkStatistics
            var waiter: CheckedContinuation<Void, Never>?
            var busy = false
            var stopping = false
        }
        let sink: any EventSink<SecurityAlert>
        let state: Mutex<State>
        init(sink: any EventSink<SecurityAlert>, budgetBytes: Int) {
            self.sink = sink
            self.state = Mutex(State(queue: BoundedQueue(budgetBytes: budgetBytes, overflow: .dropOldest),
                                     stats: SinkStatistics(name: sink.name)))
        }
    }

    private let workers: [Worker]
    private let logger: Logger
    /// Largest batch handed to a sink.
    public let maxBatch: Int
    /// A write taking longer than this counts as failed (and is retried).
    public let writeTimeoutSeconds: Double
    /// How long shutdown waits for the sinks to write what is queued.
    public let drainSeconds: Double
    /// Adjusts alerts before any sink sees them (the watchlist raises levels), without waiting.
    private let enrich: (@Sendable ([SecurityAlert]) -> [SecurityAlert])?

    /// - Parameters:
    ///   - sinks: the consumers, each with its own queue of `budgetBytes`.
    ///   - enrich: adjusts each published batch before it is queued (it must not block).
    public init(sinks: [any EventSink<SecurityAlert>], budgetBytes: Int = 8 << 20, maxBatch: Int = 500,
                writeTimeoutSeconds: Double = 10, drainSeconds: Double = 10, logger: Logger,
                enrich: (@Sendable ([SecurityAlert]) -> [SecurityAlert])? = nil) {
        self.enrich = enrich
        self.workers = sinks.map { Worker(sink: $0, budgetBytes: budgetBytes) }
        self.maxBatch = max(1, maxBatch)
        self.writeTimeoutSeconds = writeTimeoutSeconds
        self.drainSeconds = drainSeconds
        self.logger = logger
    }

    /// Queues `alerts` for every sink, without waiting.
    public func publish(_ published: [SecurityAlert]) {
        guard !published.isEmpty else { return }
        let alerts = enrich?(published) ?? published
        for worker in workers {
            let (waiter, dropped) = worker.state.withLock { state -> (CheckedContinuation<Void, Never>?, Int) in
                var dropped = 0
                for alert in alerts { dropped += state.queue.append(alert, bytes: alert.estimatedBytes) }
                state.stats.published &+= alerts.count
                state.stats.dropped &+= dropped
                defer { state.waiter = nil }
                return (state.waiter, dropped)
            }
            waiter?.resume()
            if dropped > 0 {
                logger.error("alert sink queue full; oldest updates dropped", metadata: ["sink": "\(worker.sink.name)", "dropped": "\(dropped)"])
            }
        }
    }

    /// Runs every sink's worker until graceful shutdown, then drains them.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for worker in workers {
                    group.addTask { await self.work(worker) }
                }
            }
        } onGracefulShutdown: {
            for worker in self.workers {
                let waiter = worker.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    state.stopping = true
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }

    /// Each sink's counters.
    public var statistics: [SinkStatistics] {
        workers.map { worker in
            worker.state.withLock { state in
                var stats = state.stats
                stats.queued = state.queue.counters.queued
                stats.queuedBytes = state.queue.counters.queuedBytes
                return stats
            }
        }
    }

    /// Whether every sink has written everything published so far.
    public var isIdle: Bool {
        workers.allSatisfy { worker in worker.state.withLock { $0.queue.isEmpty && !$0.busy } }
    }

    private func work(_ worker: Worker) async {
        var backoff = 0.05
        var drainDeadline: ContinuousClock.Instant?
        var failureLogged: ContinuousClock.Instant?
        while true {
            let (batch, stopping): ([SecurityAlert], Bool) = worker.state.withLock { state in
                let batch = state.queue.removeFirst(upTo: maxBatch)
                if !batch.isEmpty { state.busy = true }
                return (batch, state.stopping)
            }
            if batch.isEmpty {
                if stopping { return }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = worker.state.withLock { state -> Bool in
                        if !state.queue.isEmpty || state.stopping { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
                continue
            }
            let coalesced = Self.coalesce(batch)
            do {
                try await withTimeout(seconds: writeTimeoutSeconds) { try await worker.sink.write(coalesced) }
                if failureLogged != nil {
                    failureLogged = nil
                    logger.notice("alert sink recovered", metadata: ["sink": "\(worker.sink.name)"])
                }
                worker.state.withLock { state in
                    state.busy = false
                    state.stats.written &+= coalesced.count
                    state.stats.batches &+= 1
                }
                backoff = 0.05
            } catch {
                let message = "\(error)"
                let dropped = worker.state.withLock { state -> Int in
                    state.busy = false
                    state.stats.failures &+= 1
                    state.stats.lastError = message
                    let dropped = state.queue.prepend(coalesced, bytes: { $0.estimatedBytes })
                    state.stats.dropped &+= dropped
                    return dropped
                }
                // One error line when a sink starts failing, then at most one a minute.
                if failureLogged.map({ ContinuousClock.now - $0 > .seconds(60) }) ?? true {
                    failureLogged = ContinuousClock.now
                    logger.error("alert sink write failed; will retry", metadata: [
                        "sink": "\(worker.sink.name)", "error": "\(message)", "alerts": "\(coalesced.count)", "dropped": "\(dropped)",
                    ])
                }
                var resume = ContinuousClock.now.advanced(by: .seconds(backoff))
                if stopping || worker.state.withLock({ $0.stopping }) {
                    let deadline = drainDeadline ?? ContinuousClock.now.advanced(by: .seconds(drainSeconds))
                    drainDeadline = deadline
                    if ContinuousClock.now >= deadline {
                        let lost = worker.state.withLock { state -> Int in
                            let lost = state.queue.dropAll()
                            state.stats.dropped &+= lost
                            return lost
                        }
                        logger.error("alert sink could not deliver at shutdown", metadata: ["sink": "\(worker.sink.name)", "dropped": "\(lost)"])
                        return
                    }
                    resume = min(resume, deadline)
                }
                // In slices, so that a shutdown starting meanwhile does not wait out a long back-off.
                while ContinuousClock.now < resume, drainDeadline != nil || !worker.state.withLock({ $0.stopping }) {
                    try? await Task.sleep(for: min(.milliseconds(50), resume - ContinuousClock.now))
                }
                backoff = min(backoff * 2, 5)
            }
        }
    }

    /// The newest state of each alert in `batch`, in the order each alert first appeared.
    static func coalesce(_ batch: [SecurityAlert]) -> [SecurityAlert] {
        guard batch.count > 1 else { return batch }
        var position: [String: Int] = [:]
        var out: [SecurityAlert] = []
        out.reserveCapacity(batch.count)
        for alert in batch {
            if let index = position[alert.id] { out[index] = alert } else {
                position[alert.id] = out.count
                out.append(alert)
            }
        }
        return out
    }
}
