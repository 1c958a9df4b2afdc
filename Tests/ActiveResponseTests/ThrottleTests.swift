import ActiveResponse
import SecurityModel
import Testing

@Suite("Login throttle and rate limiter")
struct ThrottleTests {
    static let second: Int64 = 1_000_000

    @Test("delays grow after the free failures, per user and source, and expire")
    func growingDelays() {
        var throttle = LoginThrottle()
        var now: Int64 = 1_000 * Self.second
        for _ in 0..<3 {
            #expect(throttle.decide(user: "admin", source: "203.0.113.5", device: nil, now: now) == .allow)
            throttle.failure(user: "admin", source: "203.0.113.5", device: nil, now: now)
        }
        #expect(throttle.decide(user: "admin", source: "203.0.113.5", device: nil, now: now) == .allow)
        throttle.failure(user: "admin", source: "203.0.113.5", device: nil, now: now)
        guard case .throttle(let first, _) = throttle.decide(user: "admin", source: "203.0.113.5", device: nil, now: now) else {
            Issue.record("not throttled after 4 failures"); return
        }
        #expect(first == 1)
        now += 2 * Self.second
        throttle.failure(user: "admin", source: "203.0.113.5", device: nil, now: now)
        guard case .throttle(let second, _) = throttle.decide(user: "admin", source: "203.0.113.5", device: nil, now: now) else {
            Issue.record("not throttled after 5 failures"); return
        }
        #expect(second == 2)
        // Another user from the same address is not throttled yet (the per-source count is 5 of 10).
        #expect(throttle.decide(user: "bob", source: "203.0.113.5", device: nil, now: now) == .allow)
        // The delay is over.
        #expect(throttle.decide(user: "admin", source: "203.0.113.5", device: nil, now: now + 3 * Self.second) == .allow)
        #expect(LoginThrottle.Schedule(freeFailures: 3, maxDelaySeconds: 900).delay(after: 1_000) == 900)
        #expect(LoginThrottle.Schedule(freeFailures: 3, maxDelaySeconds: 900).delay(after: Int.max) == 900)
    }

    @Test("a known device is throttled only by its own failures; success clears the pair")
    func deviceExemption() {
        var throttle = LoginThrottle()
        let now: Int64 = 5_000 * Self.second
        for index in 0..<50 { throttle.failure(user: "admin", source: "198.51.100.\(index % 3)", device: nil, now: now) }
        guard case .throttle = throttle.decide(user: "admin", source: "198.51.100.1", device: nil, now: now) else {
            Issue.record("the flooding address is not throttled"); return
        }
        #expect(throttle.decide(user: "admin", source: "198.51.100.1", device: "device-1", now: now) == .allow)
        for _ in 0..<4 { throttle.failure(user: "admin", source: "198.51.100.1", device: "device-1", now: now) }
        #expect(throttle.decide(user: "admin", source: "198.51.100.1", device: "device-1", now: now) != .allow)
        throttle.success(user: "admin", source: "198.51.100.1", device: "device-1")
        #expect(throttle.decide(user: "admin", source: "198.51.100.1", device: "device-1", now: now) == .allow)
    }

    @Test("the throttle stays within its capacity and counts what it evicts")
    func bounded() {
        var throttle = LoginThrottle(capacity: 100)
        for index in 0..<1_000 { throttle.failure(user: "u\(index)", source: "10.0.\(index / 256).\(index % 256)", device: nil, now: Int64(index)) }
        #expect(throttle.count <= 200)
        #expect(throttle.evicted > 0)
    }

    @Test("the rate limiter allows a burst, then one request per interval, with Retry-After")
    func rateLimit() throws {
        var limiter = RateLimiter(capacity: 16)
        let source = try #require(AddressTable<Int>.Key(parsing: "192.0.2.9"))
        var now: Int64 = 10 * Self.second
        // 60 a minute: a burst of 10, then one a second.
        for _ in 0..<10 { #expect(limiter.take(source, perMinute: 60, now: now) == nil) }
        #expect(limiter.take(source, perMinute: 60, now: now) == 1)
        now += Self.second
        #expect(limiter.take(source, perMinute: 60, now: now) == nil)
        #expect(limiter.take(source, perMinute: 60, now: now) == 1)
        // 1 a minute: the wait is a minute.
        let slow = try #require(AddressTable<Int>.Key(parsing: "2001:db8::9"))
        #expect(limiter.take(slow, perMinute: 1, now: now) == nil)
        #expect(limiter.take(slow, perMinute: 1, now: now) == 60)
    }

    @Test("the rate limiter stays within its capacity")
    func rateLimitBounded() throws {
        var limiter = RateLimiter(capacity: 16)
        for index in 0..<200 {
            let key = try #require(AddressTable<Int>.Key(parsing: "10.1.0.\(index)"))
            _ = limiter.take(key, perMinute: 6, now: Int64(index))
        }
        #expect(limiter.count <= 16)
        #expect(limiter.evicted > 0)
    }
}
