@testable import App
import Foundation
import NIOHTTP1
import Testing

@Suite("Bad input", .timeLimit(.minutes(10)))
struct BadInputTests {
    @Test("malformed, oversized and unknown requests get clear answers and are logged", arguments: TestDatabase.all)
    func badRequests(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = try await h.loggedIn(as: .admin)
            let token = try await client.sessionCSRFToken()

            let malformedJSON = try await client.send(.POST, "/admin/users", headers: [
                ("Content-Type", "application/json"), ("X-CSRF-Token", token), ("Accept", "application/json"),
            ], body: "{\"username\": ")
            #expect(malformedJSON.status == .badRequest)
            #expect(try malformedJSON.json()["reason"] as? String != nil)

            let wrongType = try await client.send(.POST, "/admin/users", headers: [
                ("Content-Type", "application/json"), ("X-CSRF-Token", token), ("Accept", "application/json"),
            ], body: "{\"username\": 5, \"role\": \"viewer\"}")
            #expect(wrongType.status == .badRequest)
            #expect((try wrongType.json()["reason"] as? String)?.contains("username") == true)

            let huge = String(repeating: "a", count: 200_000)
            let tooBig = try await client.send(.POST, "/admin/users", headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("X-CSRF-Token", token),
            ], body: "username=\(huge)&role=viewer")
            #expect(tooBig.status == .payloadTooLarge)

            let badQuery = try await client.get("/api/events?limit=abc")
            #expect(badQuery.status == .badRequest)
            let badTime = try await client.get("/api/events?before=yesterday")
            #expect(badTime.status == .badRequest)
            #expect((try badTime.json()["reason"] as? String)?.contains("before") == true)

            let missingPage = try await client.get("/no/such/page")
            #expect(missingPage.status == .notFound)
            #expect(missingPage.headers.first(name: "content-type")?.contains("text/html") == true)
            #expect(missingPage.body.contains("There is no page at /no/such/page"))
            let missingAPI = try await client.get("/api/nothing")
            #expect(missingAPI.status == .notFound)
            #expect(try missingAPI.json()["error"] as? Bool == true)

            let badID = try await client.postForm("/admin/users/not-a-uuid/lock", [:])
            #expect(badID.status == .badRequest)

            // (the 200 is the page the client reads its CSRF token from)
            let logged = try await h.logObjects().suffix(9).map { $0["status"] as? Int }
            #expect(logged == [400, 400, 413, 400, 400, 404, 404, 200, 400])
            // The server is still fine.
            #expect(try await client.get("/api/status").status == .ok)
        }
    }

    @Test("escaped output: user-controlled text never becomes markup", arguments: TestDatabase.all)
    func escaping(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let attacker = h.client()
            attacker.userAgent.withLock { $0 = "<script>alert(1)</script>" }
            _ = try await attacker.get("/some/page")
            let echoed = try await attacker.login("\"><img src=x onerror=alert(1)>", "whatever-password")
            #expect(echoed.body.contains("value=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\""), "the login form echoes the name escaped")
            #expect(!echoed.body.contains("<img src=x"))
            try await h.flush()
            let page = try await admin.get("/activity")
            #expect(page.status == .ok)
            #expect(!page.body.contains("<script>alert(1)</script>"))
            #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.body.contains("<img src=x"))
        }
    }

    @Test("every response carries the security headers", arguments: TestDatabase.all)
    func securityHeaders(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = h.client()
            for path in ["/login", "/api/status", "/static/css/app.css", "/nowhere"] {
                let response = try await client.get(path)
                let csp = try #require(response.headers.first(name: "content-security-policy"), "\(path)")
                #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
                #expect(csp.contains("frame-ancestors 'none'"))
                #expect(response.headers.first(name: "x-content-type-options") == "nosniff")
                #expect(response.headers.first(name: "referrer-policy") == "same-origin")
            }
            let page = try await client.get("/login")
            #expect(!page.body.contains("<script>"), "no inline script")
            #expect(!page.body.contains("style=\""), "no inline style")
        }
    }
}
