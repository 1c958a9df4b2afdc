@testable import App
import Foundation
import NIOHTTP1
import SecurityModel
import Testing

@Suite("Login, logout, lockout, sessions", .timeLimit(.minutes(10)))
struct AuthFlowTests {
    @Test("the first admin must change the initial password before anything else", arguments: TestDatabase.all)
    func firstAdminForcedChange(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = h.client()
            let login = try await client.login("admin", SecMonHarness.adminPassword)
            #expect(login.status == .seeOther)
            #expect(login.location == "/account/password")
            // Everything but the password page and logout is closed until the password changes.
            #expect(try await client.get("/").location == "/account/password")
            #expect(try await client.get("/api/status").status == .forbidden)
            let same = try await client.postForm("/account/password", [
                "current_password": SecMonHarness.adminPassword, "new_password": SecMonHarness.adminPassword,
                "confirm_password": SecMonHarness.adminPassword,
            ])
            #expect(same.status == .badRequest)
            let short = try await client.postForm("/account/password", [
                "current_password": SecMonHarness.adminPassword, "new_password": "short", "confirm_password": "short",
            ])
            #expect(short.status == .badRequest)
            #expect(short.body.contains("at least 12 characters"))
            let before = client.cookie("secmon_session")
            let changed = try await client.postForm("/account/password", [
                "current_password": SecMonHarness.adminPassword, "new_password": SecMonHarness.changedAdminPassword,
                "confirm_password": SecMonHarness.changedAdminPassword,
            ])
            #expect(changed.status == .seeOther)
            #expect(client.cookie("secmon_session") != before, "a password change rotates the session")
            let status = try await client.get("/api/status")
            #expect(status.status == .ok)
            #expect(try status.json()["user"] as? String == "admin")
            // The old password no longer works; the new one does.
            #expect(try await h.client().login("admin", SecMonHarness.adminPassword).status == .unauthorized)
            #expect(try await h.client().login("admin", SecMonHarness.changedAdminPassword).location == "/")
        }
    }

    @Test("a failed login says the same for an unknown user and a wrong password", arguments: TestDatabase.all)
    func failureRevealsNothing(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("alice", role: .analyst)
            let wrong = try await h.client().login("alice", "not-the-password")
            let unknown = try await h.client().login("nobody-here", "not-the-password")
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            func message(_ body: String) -> String? {
                body.range(of: #"<p class="error"[^>]*>[^<]*</p>"#, options: .regularExpression).map { String(body[$0]) }
            }
            #expect(message(wrong.body) != nil)
            #expect(message(wrong.body) == message(unknown.body))
            #expect(wrong.headers.first(name: "set-cookie")?.contains("secmon_session") != true)
        }
    }

    @Test("failures never lock an account: they are throttled, and the right password works once the delay is over; an admin locks and unlocks", arguments: TestDatabase.all)
    func noLockout(db: TestDatabase) async throws {
        // The throttle's clock stands still until the test moves it past the delay.
        let clock = ManualClock()
        try await SecMonHarness.with(db, adjust: { $0.loginDelaySeconds = 8; $0.loginClock = clock.source }) { h in
            try await h.createUser("bob", role: .viewer)
            for _ in 0..<4 {
                #expect(try await h.client().login("bob", "wrong-password-x").status == .unauthorized)
            }
            let throttled = try await h.client().login("bob", "user-password-123")
            #expect(throttled.status == .tooManyRequests)
            let wait = try #require(throttled.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect(wait == 8)
            clock.advance(seconds: wait - 1)
            #expect(try await h.client().login("bob", "user-password-123").status == .tooManyRequests)
            clock.advance(seconds: 1)
            let after = try await h.client().login("bob", "user-password-123")
            #expect(after.status == .seeOther, "\(after.status) \(after.body.prefix(600))")
            let admin = try await h.loggedIn(as: .admin)
            let users = try await admin.get("/api/users").json()["users"] as? [[String: Any]] ?? []
            let bob = try #require(users.first { $0["username"] as? String == "bob" })
            #expect(bob["locked"] as? Bool == false)
            let id = try #require(bob["id"] as? String)
            #expect(try await admin.postForm("/admin/users/\(id)/lock", [:]).status == .ok)
            #expect(try await h.client().login("bob", "user-password-123").status == .unauthorized)
            #expect(try await admin.postForm("/admin/users/\(id)/unlock", [:]).status == .ok)
            #expect(try await h.client().login("bob", "user-password-123").status == .seeOther)
        }
    }

    @Test("an account locked by an admin cannot log in and its sessions end at once", arguments: TestDatabase.all)
    func adminLockEndsSessions(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let carol = h.client()
            try await h.createUser("carol", role: .analyst)
            #expect(try await carol.login("carol", "user-password-123").status == .seeOther)
            #expect(try await carol.get("/api/status").status == .ok)
            let users = try await admin.get("/api/users").json()["users"] as? [[String: Any]] ?? []
            let id = try #require(users.first { $0["username"] as? String == "carol" }?["id"] as? String)
            #expect(try await admin.postForm("/admin/users/\(id)/lock", [:]).status == .ok)
            #expect(try await carol.get("/api/status").status == .unauthorized)
            #expect(try await h.client().login("carol", "user-password-123").status == .unauthorized)
        }
    }

    @Test("logout ends the session on the server, not just in the browser", arguments: TestDatabase.all)
    func logout(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = try await h.loggedIn(as: .viewer)
            let token = try #require(client.cookie("secmon_session"))
            let out = try await client.postForm("/logout", [:])
            #expect(out.status == .seeOther)
            #expect(out.location == "/login")
            #expect(client.cookie("secmon_session") == nil)
            let replay = h.client()
            replay.setCookie("secmon_session", token)
            #expect(try await replay.get("/api/status").status == .unauthorized)
            #expect(try await replay.get("/").location?.hasPrefix("/login") == true)
        }
    }

    @Test("login issues a new session id; a session id the browser already had (fixation) is ended", arguments: TestDatabase.all)
    func sessionRotation(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("dave", role: .viewer)
            let victim = h.client()
            #expect(try await victim.login("dave", "user-password-123").status == .seeOther)
            let first = try #require(victim.cookie("secmon_session"))
            // Another browser carrying that same session id logs in: it must get a new id,
            // and the id it carried must stop working.
            let browser = h.client()
            let page = try await browser.get("/login")
            browser.setCookie("secmon_session", first)
            let login = try await browser.postForm("/login", [
                "username": "dave", "password": "user-password-123", "csrf_token": try #require(page.csrfToken),
            ], csrf: false)
            #expect(login.status == .seeOther)
            let second = try #require(browser.cookie("secmon_session"))
            #expect(first != second)
            #expect(try await victim.get("/api/status").status == .unauthorized)
            #expect(try await browser.get("/api/status").status == .ok)
        }
    }

    @Test("session cookies are HttpOnly and SameSite, and Secure behind a trusted HTTPS proxy", arguments: TestDatabase.all)
    func cookieAttributes(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.trustedProxies = [CIDRBlock("127.0.0.1")!] }) { h in
            try await h.createUser("erin", role: .viewer)
            let plain = try await h.client().login("erin", "user-password-123")
            let cookie = try #require(plain.headers["set-cookie"].first { $0.hasPrefix("secmon_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"))
            let client = h.client()
            let page = try await client.get("/login")
            let secured = try await client.send(.POST, "/login", headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-Proto", "https"),
            ], body: "username=erin&password=user-password-123&csrf_token=\(try #require(page.csrfToken))")
            let secureCookie = try #require(secured.headers["set-cookie"].first { $0.hasPrefix("secmon_session=") })
            #expect(secureCookie.contains("Secure"))
        }
    }

    @Test("sessions live in the database and survive a restart", arguments: TestDatabase.all)
    func sessionsSurviveRestart(db: TestDatabase) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try await db.makeFresh(in: dir)
        let token = TokenBox()
        try await SecMonHarness.with(db, directory: dir, databaseConfig: database) { h in
            let client = try await h.loggedIn(as: .analyst)
            token.value = client.cookie("secmon_session")
        }
        try await SecMonHarness.with(db, directory: dir, databaseConfig: database) { (h: SecMonHarness) async throws in
            let client = h.client()
            client.setCookie("secmon_session", token.value)
            #expect(try await client.get("/api/status").status == .ok)
        }
    }
}

final class TokenBox: @unchecked Sendable { var value: String? }
