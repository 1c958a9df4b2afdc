@testable import App
import Foundation
import NIOHTTP1
import Testing

@Suite("CSRF protection", .timeLimit(.minutes(10)))
struct CSRFTests {
    @Test("state-changing requests without the session's token are refused", arguments: TestDatabase.all)
    func missingOrWrongToken(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let missing = try await admin.postForm("/admin/users", ["username": "mallory", "role": "admin"], csrf: false)
            #expect(missing.status == .forbidden)
            let wrong = try await admin.postForm("/admin/users", ["username": "mallory", "role": "admin", "csrf_token": "forged"])
            #expect(wrong.status == .forbidden)
            let logout = try await admin.postForm("/logout", [:], csrf: false)
            #expect(logout.status == .forbidden)
            // The session is still alive and no user was created.
            let listing = try await admin.get("/api/users")
            #expect(listing.status == .ok)
            let users = try #require(try listing.json()["users"] as? [[String: Any]])
            #expect(users.contains { $0["username"] as? String == "admin" })
            #expect(!users.contains { $0["username"] as? String == "mallory" })
            // The token in a header works as well as the form field.
            let token = try await admin.sessionCSRFToken()
            let viaHeader = try await admin.send(.POST, "/admin/users", headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("X-CSRF-Token", token),
            ], body: "username=trent&role=viewer")
            #expect(viaHeader.status == .ok)
        }
    }

    @Test("a request from another origin is refused even with a token", arguments: TestDatabase.all)
    func crossOrigin(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let response = try await admin.postForm("/admin/users", ["username": "eve", "role": "viewer"], headers: [("Origin", "https://evil.example")])
            #expect(response.status == .forbidden)
        }
    }

    @Test("the login form needs its token (no login CSRF)", arguments: TestDatabase.all)
    func loginCSRF(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = h.client()
            let response = try await client.postForm("/login", ["username": "admin", "password": SecMonHarness.adminPassword], csrf: false)
            #expect(response.status == .forbidden)
            #expect(client.cookie("secmon_session") == nil)
            let lines = try await h.logObjects()
            // Refused before any password was checked: not a failed login (brute-force rules do not see it).
            #expect(lines.last?["action"] as? String == "LOGIN_REJECTED")
            #expect(lines.last?["status"] as? Int == 403)
            #expect(!lines.contains { $0["action"] as? String == "LOGIN_FAILURE" })
        }
    }
}
