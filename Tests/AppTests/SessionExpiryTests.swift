@testable import App
import Fluent
import Foundation
import Synchronization
import Testing

@Suite("Session expiry", .timeLimit(.minutes(10)))
struct SessionExpiryTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test("sessions end after the idle time and the maximum age, and are purged", arguments: TestDatabase.all)
    func expiry(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let clock = Clock()
            let store = SessionStore(database: { h.app.db }, idleSeconds: 1800, maxSeconds: 7200, cacheSeconds: 0,
                                     now: { clock.now.withLock { $0 } })
            try await h.createUser("judy", role: .viewer)
            let user = try #require(try await h.app.secmon.users(on: h.app.db).find("judy"))

            let (idleToken, _) = try await store.create(for: user, ipAddress: "127.0.0.1", userAgent: "t")
            clock.advance(1700)
            #expect(try await store.principal(forToken: idleToken) != nil, "still within the idle time")
            clock.advance(1700)
            #expect(try await store.principal(forToken: idleToken) != nil, "the last request renewed it")
            clock.advance(1801)
            #expect(try await store.principal(forToken: idleToken) == nil, "idle for longer than 30 minutes")

            let (activeToken, _) = try await store.create(for: user, ipAddress: "127.0.0.1", userAgent: "t")
            for _ in 0..<7 {
                clock.advance(1000)
                _ = try await store.principal(forToken: activeToken)
            }
            clock.advance(500)
            #expect(try await store.principal(forToken: activeToken) == nil, "older than the maximum age, however active")

            _ = try await store.create(for: user, ipAddress: "127.0.0.1", userAgent: "t")
            clock.advance(4000)
            let purged = try await store.purgeExpired()
            #expect(purged >= 1)
            #expect(try await SessionRecord.query(on: h.app.db).filter(\.$user.$id == user.requireID()).count() == 0)
        }
    }

    @Test("the server ends sessions by its configured idle time, through real requests")
    func configuredIdleTime() async throws {
        // 5 s of idle time: a loaded machine (the whole suite on two cores) once took more than 2 s
        // from the login to the next request.
        try await SecMonHarness.with(.sqlite, adjust: { $0.sessionIdleSeconds = 5; $0.sessionCacheSeconds = 0 }) { h in
            let client = try await h.loggedIn(as: .viewer)
            let fresh = try await client.get("/api/me")
            #expect(fresh.status == .ok)
            try await Task.sleep(for: .milliseconds(6_500))
            let idle = try await client.get("/api/me")
            #expect(idle.status == .unauthorized)
        }
    }
}
