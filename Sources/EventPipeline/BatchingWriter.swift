import Logging
import Synchronization

/// Collects items from many concurrent producers and hands them to one writer in batches
/// (for example, one multi-row `INSERT` per batch instead of one statement per event).
///
/// `submit` never waits: producers (request handlers) pay for a lock and an append. A background
/// task writes a batch whenever items are pending: at most `maxBatch` items, at the latest
/// `maxDelay` seconds after the first one arrived. A failed write keeps its items and is retried
/// with back-off; only when more than `capacity` items are waiting are the oldest dropped, and
/// they are counted in `stats.dropped` and logged.
public final class BatchingWriter<Item: Sendable>: Sendable {
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
        /// Items dropped because `capacity` was exceeded while writes kept failing.
        public var dropped = 0
    }

    private struct State {
        var queue: [Item] = []
        var stats = Stats()
        var inFlight = 0
        var stopped = false
    }

    /// Largest batch handed to the writer.
    public let maxBatch: Int
    /// Longest wait before pending items are written, in seconds.
    public let maxDelay: Double
    /// Most items kept while writes fail.
    public let capacity: Int
    private let write: @Sendable ([Item]) async throws -> Void
    private let logger: Logger
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - write: writes one batch; throwing keeps the batch for a retry.
    public init(
        maxBatch: Int = 500, maxDelay: Double = 0.1, capacity: Int = 200_000, logger: Logger,
        write: @escaping @Sendable ([Item]) async throws -> Void
    ) {
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.capacity = capacity
        self.logger = logger
        self.write = write
    }

    /// Starts the background task. Call once.
    public func start() {
        let loop = Task { [self] in await self.run() }
        task.withLock { $0 = loop }
    }

    /// Queues one item for writing.
    public func submit(_ item: Item) {
        let droppedNow: Int = state.withLock { state in
            state.queue.append(item)
            state.stats.submitted += 1
            let excess = state.queue.count - capacity
            guard excess > 0 else { return 0 }
            state.queue.removeFirst(excess)
            state.stats.dropped += excess
            return excess
        }
        if droppedNow > 0 {
            logger.error("event queue full; oldest events dropped", metadata: ["dropped": "\(droppedNow)", "capacity": "\(capacity)"])
        }
    }

    /// The counters so far.
    public var stats: Stats { state.withLock { $0.stats } }

    /// Writes everything submitted before this call; returns when it is written (or writing failed).
    /// - Throws: the writer's error when a batch cannot be written.
    public func flush() async throws {
        while true {
            let batch: [Item] = state.withLock { state in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                if !batch.isEmpty { state.inFlight += 1 }
                return batch
            }
            if batch.isEmpty {
                // Wait for a batch the background task may be writing right now.
                while state.withLock({ $0.inFlight > 0 }) { try await Task.sleep(for: .milliseconds(2)) }
                if state.withLock({ $0.queue.isEmpty }) { return }
                continue
            }
            try await writeBatch(batch)
        }
    }

    /// Writes what is pending and stops the background task.
    public func shutdown() async {
        state.withLock { $0.stopped = true }
        let loop = task.withLock { $0 }
        await loop?.value
        do { try await flush() } catch {
            logger.error("events not written at shutdown", metadata: ["error": "\(error)", "pending": "\(state.withLock { $0.queue.count })"])
        }
    }

    private func writeBatch(_ batch: [Item]) async throws {
        do {
            try await write(batch)
            state.withLock { state in
                state.inFlight -= 1
                state.stats.written += batch.count
                state.stats.batches += 1
            }
        } catch {
            state.withLock { state in
                state.inFlight -= 1
                state.stats.failures += 1
                state.queue.insert(contentsOf: batch, at: 0)
            }
            throw error
        }
    }

    private func run() async {
        var backoff = maxDelay
        while true {
            let (batch, stopped): ([Item], Bool) = state.withLock { state in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                if !batch.isEmpty { state.inFlight += 1 }
                return (batch, state.stopped)
            }
            if batch.isEmpty {
                if stopped { return }
                try? await Task.sleep(for: .milliseconds(Int(maxDelay * 1000)))
                continue
            }
            do {
                try await writeBatch(batch)
                backoff = maxDelay
            } catch {
                logger.error("event batch not written; will retry", metadata: ["error": "\(error)", "items": "\(batch.count)"])
                if stopped { return }
                try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(backoff * 2, 5)
            }
        }
    }
}
