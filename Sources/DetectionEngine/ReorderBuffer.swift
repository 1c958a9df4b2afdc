import DequeModule
import SecurityModel

/// Puts slightly out-of-order hits back in time order: a hit is held until the newest time seen
/// is `lateness` past it. A hit older than what was already released is late and is handed back.
///
/// Times are kept beside the hits, so that deciding whether the oldest hit can go, or where a
/// late-arriving one belongs, reads plain integers.
struct ReorderBuffer: Sendable {
    let lateness: Int64
    private var items: Deque<RuleHit> = []
    private var times: Deque<Int64> = []
    private(set) var newest: Int64 = .min
    /// Time of the last released hit.
    private(set) var releasedUpTo: Int64 = .min

    init(latenessMicroseconds: Int64) { lateness = max(0, latenessMicroseconds) }

    var count: Int { items.count }

    /// Inserts `hit`; returns false (and keeps nothing) when it is too late to be ordered.
    mutating func insert(_ hit: RuleHit) -> Bool {
        let time = hit.timestamp.microseconds
        if time < releasedUpTo { return false }
        if time > newest { newest = time }
        if let last = times.last, last > time {
            // Binary search for the first item later than `time` (equal times keep arrival order).
            var low = 0, high = times.count
            while low < high {
                let mid = (low + high) / 2
                if times[mid] <= time { low = mid + 1 } else { high = mid }
            }
            items.insert(hit, at: low)
            times.insert(time, at: low)
        } else {
            items.append(hit)
            times.append(time)
        }
        return true
    }

    /// Calls `body` with every waiting hit.
    func forEachHit(_ body: (RuleHit) -> Void) { for hit in items { body(hit) } }

    /// Moves the newest time seen forward without a hit (time passes in a live feed).
    mutating func observe(time: Int64) {
        if time > newest { newest = time }
    }

    /// Removes and returns the next hit that can no longer be preceded by a later arrival.
    @inline(__always)
    mutating func next(flushing: Bool = false) -> RuleHit? {
        guard let first = times.first else { return nil }
        if !flushing, first > newest &- lateness { return nil }
        releasedUpTo = first
        times.removeFirst()
        return items.removeFirst()
    }
}
