/// One group's known values for a ``BaselineRule/Kind/firstSeen(learning:field:)`` rule: when the
/// group was first seen, and each value it had with when it was last seen (value symbols).
///
/// Bounded: at most `capacity` values; a group that floods distinct values forgets its least
/// recently seen ones (counted by the caller). Pure and deterministic.
struct FirstSeenHistory: Sendable {
    /// When the group's first event happened (since it was last forgotten), and its last.
    private(set) var firstTime: Int64
    private(set) var lastTime: Int64
    /// Value symbol -> when last seen.
    private(set) var known: [UInt32: Int64] = [:]
    /// At most the earliest last-seen time of `known` (last-seen times only grow, so a bound
    /// taken when a value was added stays one): a sweep skips the group while it is recent.
    private(set) var oldestSeen: Int64 = .max
    /// The open alert's number (-1: none), and until when new values extend it.
    var openAlert = -1
    var alertUntil: Int64 = .min

    init(time: Int64) {
        firstTime = time
        lastTime = time
    }

    /// A history as ``BaselineSnapshot`` kept it.
    init(firstTime: Int64, lastTime: Int64, known: [UInt32: Int64]) {
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.known = known
        self.oldestSeen = known.values.min() ?? .max
    }

    enum Outcome: Equatable {
        /// The value was seen within the learning period.
        case known
        /// New, but the group is still being learned.
        case learning
        /// New for a group with enough history.
        case new
    }

    /// Records `value` at `time`; `forgotten` is set when a value had to go to make room.
    mutating func observe(_ value: UInt32, at time: Int64, learning: Int64, capacity: Int, forgotten: inout Bool) -> Outcome {
        // Silent for the whole learning period: every value has expired, and the group is learned
        // again from here (whether or not a sweep has removed it yet).
        if time &- lastTime > learning {
            firstTime = time
            known.removeAll()
            oldestSeen = .max
        }
        lastTime = max(lastTime, time)
        if let seen = known[value], time &- seen <= learning {
            known[value] = time
            return .known
        }
        if known[value] == nil, known.count >= capacity, let oldest = known.min(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            known.removeValue(forKey: oldest.key)
            forgotten = true
        }
        known[value] = time
        oldestSeen = min(oldestSeen, time)
        return time &- firstTime < learning ? .learning : .new
    }

    /// Forgets values not seen since `oldest` (the table is rebuilt only when one is that old).
    mutating func expire(before oldest: Int64) {
        guard oldestSeen < oldest else { return }
        known = known.filter { $0.value >= oldest }
        oldestSeen = known.values.min() ?? .max
    }

    /// Whether a value may be unseen since `oldest` (checked in constant time).
    func mayExpire(before oldest: Int64) -> Bool { oldestSeen < oldest }

    /// The known values other than `value`, most recently seen first (for explanations).
    func others(than value: UInt32, limit: Int) -> [UInt32] {
        known.filter { $0.key != value }.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(limit).map(\.key)
    }
}
