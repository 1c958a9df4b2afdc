@testable import App
import Foundation
import NIOHTTP1
import SecurityModel
import Testing

@Suite("User management", .timeLimit(.minutes(10)))
struct UserAdminTests {
    @Test("an admin creates a user with a one-time password, changes the role, resets the password", arguments: TestDatabase.all)
    func lifecycle(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let created = try await admin.postForm("/admin/users", ["username": "Grace", "role": "analyst"])
            #expect(created.status == .ok)
            let password = try #require(Self.oneTimePassword(created.body))
            let grace = h.client()
            #expect(try await grace.login("grace", password).location == "/account/password")
            let changed = try await grace.postForm("/account/password", [
                "current_password": password, "new_password": "graces-own-password", "confirm_password": "graces-own-password",
            ])
            #expect(changed.status == .seeOther)
            #expect(try await grace.get("/api/events").status == .ok)

            let id = try #require(try await Self.userID("grace", admin))
            #expect(try await admin.postForm("/admin/users/\(id)/role", ["role": "viewer"]).status == .ok)
            #expect(try await grace.get("/api/events").status == .forbidden, "the new role applies at once")

            let reset = try await admin.postForm("/admin/users/\(id)/reset-password", [:])
            let newPassword = try #require(Self.oneTimePassword(reset.body))
            #expect(try await grace.get("/api/status").status == .unauthorized, "a reset ends the user's sessions")
            #expect(try await h.client().login("grace", "graces-own-password").status == .unauthorized)
            #expect(try await h.client().login("grace", newPassword).location == "/account/password")

            let duplicate = try await admin.postForm("/admin/users", ["username": "grace", "role": "viewer"])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.body.contains("already exists"))
        }
    }

    @Test("the last active administrator cannot be demoted or locked", arguments: TestDatabase.all)
    func lastAdmin(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let id = try #require(try await Self.userID("admin", admin))
            let demote = try await admin.postForm("/admin/users/\(id)/role", ["role": "viewer"])
            #expect(demote.status == .badRequest)
            #expect(demote.body.contains("last active administrator"))
            #expect(try await admin.postForm("/admin/users/\(id)/lock", [:]).status == .badRequest)
            #expect(try await admin.get("/api/users").status == .ok)
        }
    }

    static func oneTimePassword(_ body: String) -> String? {
        guard let range = body.range(of: #"id="one-time-password">[^<]+<"#, options: .regularExpression) else { return nil }
        return String(body[range].dropFirst(#"id="one-time-password">"#.count).dropLast())
    }

    static func userID(_ name: String, _ admin: TestClient) async throws -> String? {
        let users = try await admin.get("/api/users").json()["users"] as? [[String: Any]] ?? []
        return users.first { $0["username"] as? String == name }?["id"] as? String
    }
}
