import DetectionEngine
import Foundation
import SecurityModel
import Synchronization

/// The pipeline's entry: sources hand events here, without waiting, and the detection stage takes
/// them in batches. Bounded by bytes; an event that does not fit is refused and counted.
///
/// An ordered source (the web app's own activity) has its events stamped here, under the lock
/// that queues them: times never go backwards in queue order, so the engine needs no lateness
/// window and holds nothing back. Clock ticks go through the same queue, so a tick never
/// overtakes an event stamped before it.
public final class EventIntake: Sendable {
    /// What the detection stage takes.
    public enum Item: Sendable {
        case event(SecurityEvent)
        /// The time is now this, even without events (quiet alerts may close).
        case tick(Timestamp)
        /// Switch to these rules after the events queued before (the continuation learns how it went).
        case reload(RuleSet, CheckedContinuation<DetectionStage.ReloadSummary, Never>)
    }

    /// Counters, for health reports.
    public struct Statistics: Sendable, Equatable {
        /// Events accepted.
        public var accepted = 0
        /// Events refused because the queue was full (or the pipeline had stopped).
        public var dropped = 0
        /// Events waiting now, and their bytes.
        public var queued = 0
        public var queuedBytes = 0
        /// Most bytes waiting at once.
        public var peakBytes = 0
        /// The budget.
        public var budgetBytes = 0
    }

    private struct State {
        var queue: BoundedQueue<Item>
        var accepted = 0
        var refusedAfterFinish = 0
        var lastStamp = Int64.min
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        /// The consumer holds a batch it has not finished with.
        var busy = false
    }

    private let state: Mutex<State>
    private let now: @Sendable () -> Timestamp
    /// Largest batch handed to the consumer.
    public let maxBatch: Int

    /// - Parameters:
    ///   - budgetBytes: most bytes of events held (``SecurityEvent/estimatedBytes``).
    ///   - now: the clock ordered sources are stamped with.
    public init(budgetBytes: Int, maxBatch: Int = 1024, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.state = Mutex(State(queue: BoundedQueue(budgetBytes: budgetBytes, overflow: .refuseNew)))
        self.now = now
        self.maxBatch = max(1, maxBatch)
    }

    /// Stamps `event` with the current time (never earlier than the previous stamp) and queues
    /// it; `event.time` is set even when it is refused. Returns whether it was accepted.
    @discardableResult
    public func submitStamped(_ event: inout SecurityEvent) -> Bool {
        stampAndQueue(&event, onlyIfRoom: false)
    }

    /// Queues `event` with the time its source gave it (an unordered source: the engine's
    /// lateness window puts it in order). Returns whether it was accepted.
    @discardableResult
    public func submit(_ event: SecurityEvent) -> Bool {
        let bytes = event.estimatedBytes
        let (accepted, waiter) = state.withLock { Self.enqueue(.event(event), bytes: bytes, &$0) }
        waiter?.resume()
        return accepted
    }

    /// Queues `event` if there is room, without counting a refusal as a drop: for a source that
    /// can wait and offer it again (a replay, a file being read). Returns whether it was queued.
    public func offer(_ event: SecurityEvent) -> Bool {
        let bytes = event.estimatedBytes
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished, state.queue.counters.queuedBytes &+ bytes <= state.queue.budgetBytes else { return (false, nil) }
            return Self.enqueue(.event(event), bytes: bytes, &state)
        }
        waiter?.resume()
        return accepted
    }

    /// Stamps and queues `event` as ``submitStamped(_:)`` does, but only if there is room, without
    /// counting a refusal as a drop: for a live source that can wait and offer it again (a
    /// tailed file). Returns whether it was queued.
    public func offerStamped(_ event: inout SecurityEvent) -> Bool {
        stampAndQueue(&event, onlyIfRoom: true)
    }

    /// The stamp and the queueing of both: with `onlyIfRoom`, an event that does not fit is not
    /// stamped, queued or counted.
    private func stampAndQueue(_ event: inout SecurityEvent, onlyIfRoom: Bool) -> Bool {
        let bytes = event.estimatedBytes
        let clock = now().microseconds
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            if onlyIfRoom, state.finished || state.queue.counters.queuedBytes &+ bytes > state.queue.budgetBytes { return (false, nil) }
            let stamp = max(clock, state.lastStamp == .min ? clock : state.lastStamp &+ 1)
            state.lastStamp = stamp
            event.time = Timestamp(microseconds: stamp)
            return Self.enqueue(.event(event), bytes: bytes, &state)
        }
        waiter?.resume()
        return accepted
    }

    /// Queues a rule reload behind the events queued so far (never refused for room: it is tiny).
    /// Returns false when the intake has finished.
    func submitReload(_ rules: RuleSet, _ continuation: CheckedContinuation<DetectionStage.ReloadSummary, Never>) -> Bool {
        let (queued, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.queue.append(.reload(rules, continuation), bytes: 1)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return queued
    }

    /// Queues a clock tick at the current time (never earlier than the last stamp).
    public func tick() {
        let clock = now().microseconds
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            let stamp = max(clock, state.lastStamp == .min ? clock : state.lastStamp)
            state.lastStamp = stamp
            // A tick is tiny and must not be lost to a full queue: it is counted at one byte.
            state.queue.append(.tick(Timestamp(microseconds: stamp)), bytes: 1)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private static func enqueue(_ item: Item, bytes: Int, _ state: inout State) -> (Bool, CheckedContinuation<Void, Never>?) {
        guard !state.finished else {
            state.refusedAfterFinish &+= 1
            return (false, nil)
        }
        if state.queue.append(item, bytes: bytes) > 0 { return (false, nil) }
        state.accepted &+= 1
        defer { state.waiter = nil }
        return (true, state.waiter)
    }

    /// Waits for items and returns the next batch (at most ``maxBatch``); an empty batch means
    /// the intake was finished and everything was taken. Call ``batchDone()`` after handling it.
    public func take() async -> [Item] {
        while true {
            let batch: [Item]? = state.withLock { state in
                if !state.queue.isEmpty {
                    state.busy = true
                    return state.queue.removeFirst(upTo: maxBatch)
                }
                return state.finished ? [] : nil
            }
            if let batch { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// The consumer has handled (and passed on) its last batch.
    public func batchDone() {
        state.withLock { $0.busy = false }
    }

    /// No more events are accepted; the consumer takes what is queued, then gets an empty batch.
    public func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether nothing is queued and the consumer is not handling a batch.
    /// Whether ``finish()`` was called: nothing more is taken.
    public var isFinished: Bool { state.withLock { $0.finished } }

    public var isIdle: Bool { state.withLock { $0.queue.isEmpty && !$0.busy } }

    /// The counters now.
    public var statistics: Statistics {
        state.withLock { state in
            let counters = state.queue.counters
            return Statistics(accepted: state.accepted, dropped: counters.dropped + state.refusedAfterFinish,
                              queued: counters.queued, queuedBytes: counters.queuedBytes, peakBytes: counters.peakBytes,
                              budgetBytes: state.queue.budgetBytes)
        }
    }
}

extension Timestamp {
    /// The current wall-clock time.
    public static func now() -> Timestamp {
        Timestamp(secondsSince1970: Date().timeIntervalSince1970)
    }
}
