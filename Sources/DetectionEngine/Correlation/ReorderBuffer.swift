import DequeModule
import SecurityModel

/// Puts slightly out-of-order hits back in time order: a hit is held until the newest time seen
/// is `lateness` past it. A hit older than what was already released is late and is handed back.
///
/// Hits are plain data, so reading the oldest one's time, or searching for where a late-arriving
/// one belongs, costs no reference counting.
struct ReorderBuffer: Sendable {
    let lateness: Int64
    private var items: Deque<RuleHit> = []
    private(set) var newest: Int64 = .min
    /// Time of the last released hit.
    private(set) var releasedUpTo: Int64 = .min

    init(latenessMicroseconds: Int64) { lateness = max(0, latenessMicroseconds) }

    /// Inserts `hit`; returns false (and keeps nothing) when it is too late to be ordered.
    mutating func insert(_ hit: RuleHit) -> Bool {
        let time = hit.timestamp.microseconds
        if time < releasedUpTo { return false }
        if time > newest { newest = time }
        if let last = items.last, last.timestamp.microseconds > time {
            // Binary search for the first item later than `time` (equal times keep arrival order).
            var low = 0, high = items.count
            while low < high {
                let mid = (low + high) / 2
                if items[mid].timestamp.microseconds <= time { low = mid + 1 } else { high = mid }
            }
            items.insert(hit, at: low)
        } else {
            items.append(hit)
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
        guard let first = items.first?.timestamp.microseconds else { return nil }
        if !flushing, first > newest &- lateness { return nil }
        releasedUpTo = first
        return items.removeFirst()
    }
}
