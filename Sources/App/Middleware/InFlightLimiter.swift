import Synchronization

/// Counts requests in progress per client address and refuses one past `limit`: one source that
/// opens many slow requests cannot take every connection and worker. The table holds only sources
/// with a request in progress (an entry goes when its count returns to 0), so it is bounded by the
/// connections the server accepts.
final class InFlightLimiter: Sendable {
    /// Most requests one source may have in progress.
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])
    private let refusedTotal = Mutex(0)

    init(limit: Int) { self.limit = max(0, limit) }

    /// Takes a place for `source`; false (and counted) when it already has `limit` in progress.
    func enter(_ source: String) -> Bool {
        let admitted = counts.withLock { counts -> Bool in
            let current = counts[source, default: 0]
            guard current < limit else { return false }
            counts[source] = current + 1
            return true
        }
        if !admitted { refusedTotal.withLock { $0 += 1 } }
        return admitted
    }

    /// Gives back a place taken by ``enter(_:)``.
    func leave(_ source: String) {
        counts.withLock { counts in
            guard let current = counts[source] else { return }
            counts[source] = current > 1 ? current - 1 : nil
        }
    }

    /// Requests refused so far.
    var refused: Int { refusedTotal.withLock { $0 } }

    /// Sources with a request in progress now.
    var activeSources: Int { counts.withLock { $0.count } }
}
