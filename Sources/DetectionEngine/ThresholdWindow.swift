import DequeModule
import SecurityModel

/// Sliding-window counting with alert episodes, per group key: the core of Sigma's `event_count`
/// correlation ("more than 3 failures from one IP within 5 minutes").
///
/// Windows slide: every span of `timespan` ending at an event is considered, not fixed clock buckets.
/// While the count stays above the threshold for a key, further events extend the open episode;
/// a new episode for that key starts only after the count has dropped back to or below the threshold.
/// Time is the events' own: the type never reads a clock, so batch and live runs agree.
public struct ThresholdWindow<Key: Hashable & Sendable>: Sendable {
    /// What one observed event did to its key's episode.
    public enum Outcome: Equatable, Sendable {
        /// Below the threshold: no alert.
        case quiet
        /// The threshold was crossed: a new episode (alert) begins with this many events in the window.
        case opened(count: Int)
        /// The episode already open for this key continues; the window holds this many events.
        case extended(count: Int)
    }

    private struct KeyState: Sendable {
        var times: Deque<Timestamp> = []
        var episodeOpen = false
    }

    /// Length of the sliding window, in microseconds.
    public let timespanMicroseconds: Int64
    /// The count must be greater than this to fire.
    public let threshold: Int
    private var states: [Key: KeyState] = [:]

    /// - Parameters:
    ///   - timespanSeconds: window length; an event exactly `timespan` after another is still in its window.
    ///   - greaterThan: the count must exceed this value.
    public init(timespanSeconds: Double, greaterThan threshold: Int) {
        self.timespanMicroseconds = Int64((timespanSeconds * 1_000_000).rounded())
        self.threshold = threshold
    }

    /// Number of keys that hold state (for memory accounting and tests).
    public var liveKeyCount: Int { states.count }

    /// Records one event for `key` at `time`. Events must arrive in non-decreasing time order per key.
    public mutating func observe(_ key: Key, at time: Timestamp) -> Outcome {
        var state = states[key] ?? KeyState()
        state.times.append(time)
        let oldest = time.microseconds - timespanMicroseconds
        while let first = state.times.first, first.microseconds < oldest { state.times.removeFirst() }
        let count = state.times.count
        let outcome: Outcome
        if count > threshold {
            outcome = state.episodeOpen ? .extended(count: count) : .opened(count: count)
            state.episodeOpen = true
        } else {
            state.episodeOpen = false
            outcome = .quiet
        }
        states[key] = state
        return outcome
    }

    /// Drops every key whose newest event is older than one timespan before `now`, so that memory
    /// is bounded by the keys active within the window, not by the length of the input.
    public mutating func evict(before now: Timestamp) {
        let oldest = now.microseconds - timespanMicroseconds
        states = states.filter { _, state in (state.times.last?.microseconds ?? .min) >= oldest }
    }
}
