import Foundation
import SecurityModel
import Synchronization

/// Replays events held in memory into the pipeline: the benchmark's source, and a way to run a
/// recorded incident through live detection again.
///
/// Unordered (the events keep their own times; the detection stage's lateness window orders
/// them). With a rate it offers events at that pace, and what the intake refuses is counted as
/// dropped (can the pipeline keep up with this load?); without one it feeds as fast as the
/// intake takes them, waiting for room (what can the pipeline sustain?).
public final class ReplaySource: EventSource, Sendable {
    /// Counters of a replay.
    public struct Statistics: Sendable, Equatable {
        /// Events handed to the intake and accepted.
        public var sent = 0
        /// Events the intake refused (only with a rate).
        public var refused = 0
    }

    public let name = "replay"
    public let isOrdered = false
    private let events: [SecurityEvent]
    private let ratePerSecond: Double?
    private let counters = Mutex(Statistics())

    /// - Parameters:
    ///   - ratePerSecond: events offered per second; `nil` for as fast as the pipeline takes them.
    public init(events: [SecurityEvent], ratePerSecond: Double? = nil) {
        self.events = events
        self.ratePerSecond = ratePerSecond.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    public func run(into intake: EventIntake) async throws {
        let start = ContinuousClock.now
        var index = 0
        while index < events.count {
            try Task.checkCancellation()
            if let rate = ratePerSecond {
                // Offer what is due by now, then sleep a millisecond.
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let due = min(events.count, Int(seconds * rate) + 1)
                var sent = 0, refused = 0
                while index < due {
                    if intake.submit(events[index]) { sent += 1 } else { refused += 1 }
                    index += 1
                }
                counters.withLock { $0.sent += sent; $0.refused += refused }
                if index < events.count { try await Task.sleep(for: .milliseconds(1)) }
            } else {
                if intake.offer(events[index]) {
                    counters.withLock { $0.sent += 1 }
                    index += 1
                } else {
                    try await Task.sleep(for: .microseconds(200))
                }
            }
        }
    }
}
