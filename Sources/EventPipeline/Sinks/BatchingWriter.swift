import Logging
import ServiceLifecycle
import Synchronization

/// Collects items from many concurrent producers and hands them to one writer in batches
/// (for example, one multi-row `INSERT` per batch instead of one statement per event).
///
/// `submit` never waits: producers (request handlers) pay for a lock and an append to a deque.
/// The writer's task (``run()``, a service) writes a batch whenever items are pending: at most
/// `maxBatch` items, at the latest `maxDelay` seconds after the first one arrived. A failed write
/// keeps its items and is retried with back-off. The queue is bounded by bytes (each item counted
/// at `bytes(item)`): past `budgetBytes` the oldest items are dropped, counted in `stats.dropped`
/// and logged.
public final class BatchingWriter<Item: Sendable>: Service, Sendable {
    /// Counters, for monitoring and tests.
    public struct Stats: Sendable, Equatable {
        /// Items handed to `submit`.
        public var submitted = 0
        /// Items written.
        public var written = 0
        /// Successful batch writes.
        public var batches = 0
        /// Failed batch writes (their items were kept and retried).
        public var failures = 0
        /// Items dropped because the byte budget was exceeded while writes kept failing.
        public var dropped = 0
        /// Items and bytes waiting now.
        public var queued = 0
        public var queuedBytes = 0
    }

    private struct State {
        var queue: BoundedQueue<Item>
        var stats = Stats()
        var inFlight = 0
        var stopped = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// Largest batch handed to the writer.
    public let maxBatch: Int
    /// Longest wait before pending items are written, in seconds.
    public let maxDelay: Double
    private let bytes: @Sendable (Item) -> Int
    private let write: @Sendable ([Item]) async throws -> Void
    private let logger: Logger
    private let state: Mutex<State>

    /// - Parameters:
    ///   - budgetBytes: most bytes held while writes fail.
    ///   - bytes: an item's size, as counted against the budget.
    ///   - write: writes one batch; throwing keeps the batch for a retry.
    public init(
        maxBatch: Int = 500, maxDelay: Double = 0.1, budgetBytes: Int = 64 << 20, bytes: @escaping @Sendable (Item) -> Int,
        logger: Logger, write: @escaping @Sendable ([Item]) async throws -> Void
    ) {
        self.maxBatch = max(1, maxBatch)
        self.maxDelay = maxDelay
        self.bytes = bytes
        self.logger = logger
        self.write = write
        self.state = Mutex(State(queue: BoundedQueue(budgetBytes: budgetBytes, overflow: .dropOldest)))
    }

    /// Queues one item for writing.
    public func submit(_ item: Item) {
        let size = bytes(item)
        let (droppedNow, waiter) = state.withLock { state -> (Int, CheckedContinuation<Void, Never>?) in
            let dropped = state.queue.append(item, bytes: size)
            state.stats.submitted &+= 1
            state.stats.dropped &+= dropped
            defer { state.waiter = nil }
            return (dropped, state.waiter)
        }
        waiter?.resume()
        if droppedNow > 0 {
            logger.error("write queue full; oldest items dropped", metadata: ["dropped": "\(droppedNow)", "budget_bytes": "\(state.withLock { $0.queue.budgetBytes })"])
        }
    }

    /// The counters so far.
    public var stats: Stats {
        state.withLock { state in
            var stats = state.stats
            stats.queued = state.queue.counters.queued
            stats.queuedBytes = state.queue.counters.queuedBytes
            return stats
        }
    }

    /// Writes everything submitted before this call; returns when it is written (or writing failed).
    /// - Throws: the writer's error when a batch cannot be written.
    public func flush() async throws {
        while true {
            let batch = takeBatch()
            if batch.isEmpty {
                // Wait for a batch the writer's task may be writing right now.
                while state.withLock({ $0.inFlight > 0 }) { try await Task.sleep(for: .milliseconds(2)) }
                if state.withLock({ $0.queue.isEmpty }) { return }
                continue
            }
            try await writeBatch(batch)
        }
    }

    /// Writes batches until stopped (graceful shutdown, or ``stop()``), then what is pending.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stop()
        }
        do { try await flush() } catch {
            logger.error("items not written at shutdown", metadata: ["error": "\(error)", "pending": "\(state.withLock { $0.queue.count })"])
        }
    }

    /// Ends ``run()`` once what is pending is written (for use outside a service group).
    public func stop() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func takeBatch() -> [Item] {
        state.withLock { state in
            let batch = state.queue.removeFirst(upTo: maxBatch)
            if !batch.isEmpty { state.inFlight += 1 }
            return batch
        }
    }

    private func writeBatch(_ batch: [Item]) async throws {
        do {
            try await write(batch)
            state.withLock { state in
                state.inFlight -= 1
                state.stats.written &+= batch.count
                state.stats.batches &+= 1
            }
        } catch {
            let bytes = self.bytes
            state.withLock { state in
                state.inFlight -= 1
                state.stats.failures &+= 1
                state.stats.dropped &+= state.queue.prepend(batch, bytes: bytes)
            }
            throw error
        }
    }

    private func loop() async {
        var backoff = maxDelay
        while true {
            // Wait for the first item, then gather for up to maxDelay unless a batch is full.
            let idle = state.withLock { $0.queue.isEmpty && !$0.stopped }
            if idle {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state -> Bool in
                        if !state.queue.isEmpty || state.stopped { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
                // In slices, so that a full batch or a stop cuts the gathering short.
                let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(maxDelay * 1000)))
                while ContinuousClock.now < deadline, state.withLock({ $0.queue.count < maxBatch && !$0.stopped }) {
                    try? await Task.sleep(for: min(.milliseconds(10), deadline - ContinuousClock.now))
                }
            }
            let batch = takeBatch()
            if batch.isEmpty {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            do {
                try await writeBatch(batch)
                backoff = maxDelay
            } catch {
                logger.error("batch not written; will retry", metadata: ["error": "\(error)", "items": "\(batch.count)"])
                if state.withLock({ $0.stopped }) { return }
                try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(max(backoff, 0.01) * 2, 5)
            }
        }
    }
}
