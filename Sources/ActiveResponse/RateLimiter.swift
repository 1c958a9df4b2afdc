import SecurityModel

/// Token buckets for rate-limited sources, one per source address, bounded in count.
///
/// A source limited to `r` requests a minute may burst `max(1, r / 6)` requests (ten seconds'
/// worth) and then one every `60 / r` seconds. When the table is full, buckets that have refilled
/// (idle sources, equivalent to no bucket) go first; if none has, the oldest half goes, counted in
/// ``evicted`` (an evicted source starts again with a full bucket: the limit loosens, memory stays
/// bounded). Not thread-safe: the owner holds it behind a lock.
public struct RateLimiter: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var updated: Int64
    }

    private var buckets: [AddressTable<Int>.Key: Bucket] = [:]
    /// Most sources tracked at once.
    public let capacity: Int
    /// Buckets dropped while still draining because the table was full.
    public private(set) var evicted = 0

    public init(capacity: Int = 65_536) {
        self.capacity = max(16, capacity)
    }

    /// Sources tracked now.
    public var count: Int { buckets.count }

    /// Takes a token for `source` limited to `perMinute`; nil when the request may go ahead, else
    /// the whole seconds to wait (at least 1) for `Retry-After`. `now` in microseconds.
    public mutating func take(_ source: AddressTable<Int>.Key, perMinute: Int, now: Int64) -> Int? {
        let rate = Double(max(1, perMinute)) / 60_000_000 // tokens per microsecond
        let burst = Double(max(1, perMinute / 6))
        var bucket = buckets[source] ?? Bucket(tokens: burst, updated: now)
        let elapsed = Double(max(0, now &- bucket.updated))
        bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            store(source, bucket, now: now, rate: rate, burst: burst)
            return nil
        }
        store(source, bucket, now: now, rate: rate, burst: burst)
        let wait = (1 - bucket.tokens) / rate / 1_000_000
        return max(1, Int(wait.rounded(.up)))
    }

    private mutating func store(_ source: AddressTable<Int>.Key, _ bucket: Bucket, now: Int64, rate: Double, burst: Double) {
        if buckets[source] == nil && buckets.count >= capacity {
            // Refilled buckets are the same as none.
            buckets = buckets.filter { $0.value.tokens + Double(max(0, now &- $0.value.updated)) * rate < burst }
            if buckets.count >= capacity {
                let sorted = buckets.sorted { $0.value.updated < $1.value.updated }
                let drop = sorted.count / 2
                for entry in sorted.prefix(drop) { buckets[entry.key] = nil }
                evicted &+= drop
            }
        }
        buckets[source] = bucket
    }
}
