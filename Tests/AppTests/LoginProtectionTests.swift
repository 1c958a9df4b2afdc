@testable import App
import Foundation
import SecurityModel
import SQLKit
import Testing

/// Login protection: failed logins are throttled per source and per (user, source) before any
/// password is hashed, with growing delays and `Retry-After`; no number of failures locks an
/// account; a browser that logged in before (its device cookie) is spared failures it did not
/// make, and has hashing slots of its own.
@Suite("Login protection", .timeLimit(.minutes(10)))
struct LoginProtectionTests {
    @Test("failures earn growing delays before any hashing, written as LOGIN_THROTTLED; the account is never locked")
    func throttled() async throws {
        // The throttle's clock stands still until the test moves it past the delay.
        let clock = ManualClock()
        try await SecMonHarness.with(.sqlite, adjust: { $0.loginDelaySeconds = 8; $0.loginClock = clock.source }) { h in
            try await h.createUser("erin", role: .viewer)
            // D-01 would block the address after its fourth failure; this test is about throttling alone.
            try await ResponseTests.setPolicy(h, "D-01", enabled: false)
            let client = ResponseTests.attacker(h, "127.0.0.30")
            for _ in 0..<4 { #expect(try await client.login("erin", "wrong-password-0").status == .unauthorized) }
            let throttled = try await client.login("erin", "user-password-123")
            #expect(throttled.status == .tooManyRequests && throttled.body.contains("Too many failed logins"))
            let retryAfter = try #require(throttled.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect(retryAfter == 8)
            #expect(h.app.secmon.loginGuard.throttled == 1)
            try await h.flush()
            let lines = try await h.logObjects().filter { $0["action"] as? String == "LOGIN_THROTTLED" }
            #expect(lines.count == 1 && lines.first?["attempted_username"] as? String == "erin" && lines.first?["status"] as? Int == 429)
            // Another address is not throttled for erin, and after the delay the right password works: no lock.
            #expect(try await ResponseTests.attacker(h, "127.0.0.31").login("erin", "wrong-password-0").status == .unauthorized)
            clock.advance(seconds: retryAfter)
            #expect(try await client.login("erin", "user-password-123").status == .seeOther)
            let user = try #require(try await h.app.secmon.users(on: h.app.db).find("erin"))
            #expect(!user.isLocked(at: Date()) && user.lockedUntil == nil)
        }
    }

    @Test("a distributed flood against admin leaves the real admin able to log in from a known device", arguments: TestDatabase.all)
    func distributedFlood(db: TestDatabase) async throws {
        // The throttle's clock stands still: the flood is throttled however slowly this machine serves it.
        let clock = ManualClock()
        try await SecMonHarness.with(db, adjust: { $0.loginDelaySeconds = 30; $0.loginClock = clock.source }) { h in
            // Blocking is D-01's business; this test is about throttling alone.
            try await ResponseTests.setPolicy(h, "D-01", enabled: false)
            // The admin's browser logged in before: it holds a device cookie.
            let browser = ResponseTests.attacker(h, "127.0.1.7")
            _ = try await h.loggedIn(as: .admin)
            #expect(try await browser.login("admin", SecMonHarness.changedAdminPassword).status == .seeOther)
            #expect(browser.cookie(LoginGuard.cookieName) != nil)
            _ = try await browser.postForm("/logout", [:])
            // 200 wrong passwords from 20 addresses, the admin's own among them.
            var statuses: [Int: Int] = [:]
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for source in 1...20 {
                    group.addTask {
                        let attacker = ResponseTests.attacker(h, "127.0.1.\(source)")
                        var seen: [Int] = []
                        for _ in 0..<10 { seen.append(Int(try await attacker.login("admin", "guess-\(source)").status.code)) }
                        return seen
                    }
                }
                for try await seen in group { for status in seen { statuses[status, default: 0] += 1 } }
            }
            #expect(statuses.values.reduce(0, +) == 200)
            // Four failures per address for admin, then every attempt is refused before any hashing.
            #expect(statuses[429] == 120 && statuses[401] == 80, "\(statuses)")
            // An unknown browser at the admin's address is throttled; the known one logs in.
            let stranger = ResponseTests.attacker(h, "127.0.1.7")
            #expect(try await stranger.login("admin", SecMonHarness.changedAdminPassword).status == .tooManyRequests)
            #expect(try await browser.login("admin", SecMonHarness.changedAdminPassword).status == .seeOther)
            #expect(try await browser.get("/").status == .ok)
        }
    }

    @Test("a device cookie is for its user only, and a forged one is ignored")
    func deviceCookie() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            try await h.createUser("frank", role: .viewer)
            let guardian = h.app.secmon.loginGuard
            let now = Timestamp.now().microseconds
            let cookie = guardian.cookie(for: "frank", now: now)
            #expect(guardian.device(cookie: cookie, user: "frank", now: now) != nil)
            #expect(guardian.device(cookie: cookie, user: "admin", now: now) == nil)
            #expect(guardian.device(cookie: cookie + "x", user: "frank", now: now) == nil)
            #expect(guardian.device(cookie: "frank.abc", user: "frank", now: now) == nil)
            let later = now + Int64(LoginGuard.cookieDays + 1) * 86_400_000_000
            #expect(guardian.device(cookie: cookie, user: "frank", now: later) == nil, "expired after a year")
        }
    }

    @Test("the hashing slots kept for known devices stay free under a flood")
    func reservedHashing() async throws {
        let hasher = PasswordHasher(cost: 12, threads: 1, queueLimit: 2, reserved: 1)
        let hash = try await hasher.hash("a-password-to-check")
        // Two slow checks fill the two unreserved places.
        async let first = hasher.verify("x", against: hash)
        async let second = hasher.verify("y", against: hash)
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: PasswordHasher.Busy.self) { _ = try await hasher.verify("z", against: hash) }
        let known = try await hasher.verify("a-password-to-check", against: hash, reserved: true)
        #expect(known)
        _ = try await (first, second)
        await hasher.shutdown()
    }
}
