@testable import App
import Foundation
import NIOHTTP1
import SecurityModel
import Testing

@Suite("Activity log", .timeLimit(.minutes(10)))
struct ActivityLogTests {
    static let seedKeys: Set<String> = ["timestamp", "ip_address", "username", "action", "taskName"]

    @Test("each action writes exactly the expected line and row", arguments: TestDatabase.all)
    func eachAction(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("frank", role: .viewer)
            let client = h.client()
            client.userAgent.withLock { $0 = "Agent \"quoted\" back\\slash" }
            _ = try await client.login("nobody", "wrong-password")                  // PAGE_VISIT + LOGIN_FAILURE
            _ = try await client.login("frank", "user-password-123")                // PAGE_VISIT + LOGIN_SUCCESS
            _ = try await client.get("/")                                           // PAGE_VISIT
            _ = try await client.get("/api/status?x=1")                             // API_REQUEST
            _ = try await client.postForm("/logout", [:])                           // PAGE_VISIT (token) + LOGOUT
            _ = try await client.get("/api/status")                                 // API_REQUEST, anonymous, 401

            let lines = try await h.logLines()
            let objects = try await h.logObjects()
            let summary = objects.map { "\($0["action"]!) \($0["username"]!) \($0["path"]!) \($0["status"]!)" }
            #expect(summary == [
                "PAGE_VISIT anonymous /login 200",
                "LOGIN_FAILURE anonymous /login 401",
                "PAGE_VISIT anonymous /login 200",
                "LOGIN_SUCCESS frank /login 303",
                "PAGE_VISIT frank / 200",
                "API_REQUEST frank /api/status 200",
                "PAGE_VISIT frank /account/password 200",
                "LOGOUT frank /logout 303",
                "API_REQUEST anonymous /api/status 401",
            ])
            // The original fields come first, in the original order and spelling.
            for line in lines {
                #expect(line.hasPrefix("{\"timestamp\": \""), "\(line)")
                let order = ["\"timestamp\"", "\"ip_address\"", "\"username\"", "\"action\"", "\"taskName\": null", "\"event_id\""]
                let positions = order.compactMap { line.range(of: $0)?.lowerBound }
                #expect(positions.count == order.count && positions == positions.sorted(), "\(line)")
            }
            for object in objects {
                #expect(Self.seedKeys.isSubset(of: Set(object.keys)))
                #expect(object["ip_address"] as? String == "127.0.0.1")
                #expect(object["user_agent"] as? String == "Agent \"quoted\" back\\slash")
                #expect(object["method"] as? String != nil)
                #expect((object["duration_ms"] as? Double ?? -1) >= 0)
                let time = try #require(object["timestamp"] as? String)
                #expect(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$"#, options: .regularExpression) != nil)
            }
            let failure = objects[1]
            #expect(failure["attempted_username"] as? String == "nobody")
            #expect(failure["user_id"] == nil)
            let success = objects[3]
            let session = try #require(success["session_id"] as? String)
            #expect(session.count == 16)
            #expect(objects[4]["session_id"] as? String == session, "the session reference follows the session")
            #expect(objects[7]["session_id"] as? String == session)
            #expect(success["user_id"] as? String != nil)
            #expect(objects[5]["path"] as? String == "/api/status", "the query string is not logged")

            // The database has the same events.
            let rows = try await h.eventRows()
            #expect(rows.count == objects.count)
            let ids = Set(objects.compactMap { $0["event_id"] as? String })
            #expect(Set(rows.map(\.eventID)) == ids)
            let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.eventID, $0) })
            for object in objects {
                let row = try #require(byID[object["event_id"] as! String])
                #expect(row.timestamp.iso8601 == object["timestamp"] as? String)
                #expect(row.action.rawValue == object["action"] as? String)
                #expect(row.username == object["username"] as? String)
                #expect(row.status == object["status"] as? Int)
            }
        }
    }

    @Test("the session cookie itself never appears in the log", arguments: TestDatabase.all)
    func noCookieInLog(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = try await h.loggedIn(as: .analyst)
            _ = try await client.get("/api/me")
            let cookie = try #require(client.cookie("secmon_session"))
            let text = try await h.logLines().joined(separator: "\n")
            #expect(!text.contains(cookie))
            #expect(!text.contains(SessionToken.digest(cookie)), "not even the database key")
        }
    }

    @Test("X-Forwarded-For is believed only from a trusted proxy", arguments: TestDatabase.all)
    func forwardedFor(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            _ = try await h.client().get("/healthz", headers: [("X-Forwarded-For", "203.0.113.9")])
            #expect(try await h.logObjects().last?["ip_address"] as? String == "127.0.0.1")
        }
        try await SecMonHarness.with(db, adjust: { $0.trustedProxies = [CIDRBlock("127.0.0.0/8")!] }) { h in
            _ = try await h.client().get("/healthz", headers: [("X-Forwarded-For", "198.51.100.7, 203.0.113.9")])
            #expect(try await h.logObjects().last?["ip_address"] as? String == "203.0.113.9")
        }
    }

    @Test("refused and unknown requests are logged with their status", arguments: TestDatabase.all)
    func refusalsLogged(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let client = h.client()
            #expect(try await client.get("/.env").status == .notFound)
            #expect(try await client.get("/api/users").status == .unauthorized)
            let objects = try await h.logObjects()
            #expect(objects.map { $0["status"] as? Int } == [404, 401])
            #expect(objects.map { $0["action"] as? String } == ["PAGE_VISIT", "API_REQUEST"])
        }
    }
}
