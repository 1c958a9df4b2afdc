import SecurityModel
import Synchronization

/// What each sending host's posts to `/ingest` brought since this server started, for the Sources page.
final class IngestCounters: Sendable {
    struct Counts: Sendable, Equatable {
        var posts = 0
        var accepted = 0
        var rejected = 0
        var lastPost: Timestamp?
        var lastRejection: String?
    }

    private let counts = Mutex<[String: Counts]>([:])

    func record(_ source: String, accepted: Int, rejected: Int, lastRejection: String?) {
        counts.withLock { all in
            var entry = all[source] ?? Counts()
            entry.posts &+= 1
            entry.accepted &+= accepted
            entry.rejected &+= rejected
            entry.lastPost = .now()
            if let lastRejection { entry.lastRejection = lastRejection }
            all[source] = entry
        }
    }

    subscript(source: String) -> Counts { counts.withLock { $0[source] ?? Counts() } }
}
