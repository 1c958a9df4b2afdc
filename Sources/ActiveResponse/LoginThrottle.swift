/// Login throttling, decided before any password is hashed: failed attempts per source and per
/// (user, source) earn growing delays, and an attempt that comes before its delay is over is
/// refused without checking the password.
///
/// A client that logged in before presents a signed device cookie (OWASP's "device cookies"):
/// its attempts for that user are throttled only by the failures made with that cookie, so a
/// flood of failures from elsewhere, or from its own network, never keeps it out.
///
/// Bounded: each table holds at most `capacity` keys; entries whose delay is over and that saw no
/// failure for `forgetSeconds` go first, then the oldest half, counted in ``evicted``.
/// Not thread-safe: the owner holds it behind a lock. Times are microseconds.
public struct LoginThrottle: Sendable {
    /// How many failures are free, and the longest delay.
    public struct Schedule: Sendable, Hashable {
        public var freeFailures: Int
        public var maxDelaySeconds: Int
        /// The first delay, doubled at each further failure.
        public var unitSeconds: Int
        public init(freeFailures: Int, maxDelaySeconds: Int, unitSeconds: Int = 1) {
            self.freeFailures = freeFailures
            self.maxDelaySeconds = maxDelaySeconds
            self.unitSeconds = max(1, unitSeconds)
        }

        /// Seconds to wait after `failures` failures: none for the free ones, then 1, 2, 4, ...
        /// units, up to the maximum.
        public func delay(after failures: Int) -> Int {
            let over = failures - freeFailures
            guard over > 0 else { return 0 }
            guard over <= 30 else { return maxDelaySeconds }
            let (delay, overflow) = unitSeconds.multipliedReportingOverflow(by: 1 << (over - 1))
            return overflow ? maxDelaySeconds : min(maxDelaySeconds, delay)
        }
    }

    /// What to do with an attempt.
    public enum Decision: Sendable, Equatable {
        case allow
        /// Refuse without hashing; try again after this many seconds.
        case throttle(retryAfter: Int, reason: String)
    }

    struct Record: Sendable {
        var failures: Int
        var last: Int64
    }

    /// Per (user, source) and per device cookie: a few free failures.
    public var perUser = Schedule(freeFailures: 3, maxDelaySeconds: 900)
    /// Per source, whatever the user: enough free failures for a shared office address.
    public var perSource = Schedule(freeFailures: 10, maxDelaySeconds: 900)
    /// A key with no failure for this long is forgotten.
    public var forgetSeconds: Int64 = 3600
    public let capacity: Int
    public private(set) var evicted = 0
    private var sources: [String: Record] = [:]
    private var pairs: [String: Record] = [:]
    private var devices: [String: Record] = [:]

    /// `unitSeconds` is the first delay (1 s; tests on a loaded machine use more).
    public init(capacity: Int = 100_000, unitSeconds: Int = 1) {
        self.capacity = max(16, capacity)
        perUser.unitSeconds = max(1, unitSeconds)
        perSource.unitSeconds = max(1, unitSeconds)
    }

    /// Keys tracked now (sources, user-source pairs, devices).
    public var count: Int { sources.count + pairs.count + devices.count }

    /// Whether an attempt for `user` from `source` may go on to the password check. `device` is
    /// the id of a valid device cookie issued to `user`, if the client sent one.
    public func decide(user: String, source: String, device: String?, now: Int64) -> Decision {
        if let device {
            return check(devices[device], perUser, now, "this device has failed recently")
        }
        let pair = check(pairs[Self.pairKey(user, source)], perUser, now, "this address has failed for this user recently")
        if pair != .allow { return pair }
        return check(sources[source], perSource, now, "this address has failed for several users recently")
    }

    /// Counts a wrong password.
    public mutating func failure(user: String, source: String, device: String?, now: Int64) {
        if let device {
            Self.bump(&devices, device, now, capacity: capacity, forget: forgetSeconds, evicted: &evicted)
            return
        }
        Self.bump(&pairs, Self.pairKey(user, source), now, capacity: capacity, forget: forgetSeconds, evicted: &evicted)
        Self.bump(&sources, source, now, capacity: capacity, forget: forgetSeconds, evicted: &evicted)
    }

    /// A successful login clears that user's failures from that source (or device); the source's
    /// count for other users stays.
    public mutating func success(user: String, source: String, device: String?) {
        if let device { devices[device] = nil }
        pairs[Self.pairKey(user, source)] = nil
    }

    private func check(_ record: Record?, _ schedule: Schedule, _ now: Int64, _ reason: String) -> Decision {
        guard let record else { return .allow }
        let delay = schedule.delay(after: record.failures)
        guard delay > 0 else { return .allow }
        let until = record.last &+ Int64(delay) &* 1_000_000
        guard now < until else { return .allow }
        let wait = Int((until &- now + 999_999) / 1_000_000)
        return .throttle(retryAfter: max(1, wait), reason: reason)
    }

    private static func pairKey(_ user: String, _ source: String) -> String { user + "\u{0}" + source }

    private static func bump(_ table: inout [String: Record], _ key: String, _ now: Int64, capacity: Int, forget: Int64, evicted: inout Int) {
        if var record = table[key] {
            if now &- record.last > forget &* 1_000_000 { record.failures = 0 }
            record.failures = record.failures < Int.max ? record.failures + 1 : record.failures
            record.last = now
            table[key] = record
            return
        }
        if table.count >= capacity {
            table = table.filter { now &- $0.value.last <= forget &* 1_000_000 }
            if table.count >= capacity {
                let sorted = table.sorted { $0.value.last < $1.value.last }
                let drop = sorted.count / 2
                for entry in sorted.prefix(drop) { table[entry.key] = nil }
                evicted &+= drop
            }
        }
        table[key] = Record(failures: 1, last: now)
    }
}
