@testable import App
import EventPipeline
import Foundation
import SecurityModel
import SQLKit
import Testing

/// Active response, first part: blocking a source address or network, by hand or from an
/// incident. A blocked source gets 403 before any other work; the allowlist and the analyst's own
/// address cannot be blocked; blocks expire, survive a restart and are undone.
@Suite("Response: blocks", .timeLimit(.minutes(10)))
struct ResponseTests {
    /// Turns a rule's response policy on or off (as an administrator would), keeping its actions.
    static func setPolicy(_ h: SecMonHarness, _ rule: String, enabled: Bool, dryRun: Bool = false) async throws {
        let store = ResponsePolicyStore(database: h.app.db as! any SQLDatabase)
        let stored = try #require(try await store.find(rule))
        var policy = stored.policy
        policy.enabled = enabled
        policy.dryRun = dryRun
        _ = try await store.save(policy, version: stored.version, knownRules: [rule], by: .user("test", ip: nil), on: h.app.db)
    }

    static func attacker(_ h: SecMonHarness, _ address: String) -> TestClient {
        let client = h.client()
        client.source.withLock { $0 = address }
        return client
    }

    @Test("a block refuses the source before anything else, is on the timeline and in the audit trail, and is undone", arguments: TestDatabase.all)
    func blockAndUndo(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            let attacker = Self.attacker(h, "127.0.0.9")
            let neighbour = Self.attacker(h, "127.0.0.10")
            #expect(try await attacker.get("/login").status == .ok)

            let response = try await analyst.postForm("/response/act", ["kind": "block", "target": "127.0.0.9", "minutes": "30", "reason": "scanning us"])
            #expect(response.status == .ok && response.body.contains("Blocked 127.0.0.9"), "\(response.body.prefix(300))")
            for path in ["/login", "/healthz", "/api/v1/health", "/static/css/app.css", "/no-such-page"] {
                let refused = try await attacker.get(path)
                #expect(refused.status == .forbidden && refused.body.contains("Requests from your address are blocked"), "\(path): \(refused.status)")
            }
            let post = try await attacker.postForm("/login", ["username": "admin", "password": "x", "csrf_token": "x"], csrf: false)
            #expect(post.status == .forbidden && post.body.contains("blocked"))
            #expect(try await neighbour.get("/login").status == .ok, "only the blocked address is refused")
            // Written as its own action, with its status.
            let lines = try await h.logObjects().filter { $0["ip_address"] as? String == "127.0.0.9" && $0["action"] as? String == "REQUEST_BLOCKED" }
            #expect(lines.count == 6 && lines.allSatisfy { $0["status"] as? Int == 403 })
            #expect(h.app.secmon.runtime.responses.refusedRequests == 6)

            let page = try await analyst.get("/response")
            #expect(page.body.contains("scanning us") && page.body.contains("127.0.0.9"))
            let store = ResponseStore(database: h.app.db)
            let block = try #require(try await store.activeBlocks().first)
            let undone = try await analyst.postForm("/response/\(block.id)/undo", [:])
            #expect(undone.status == .ok && undone.body.contains("Unblocked 127.0.0.9"))
            #expect(try await attacker.get("/login").status == .ok)
            let again = try await analyst.postForm("/response/\(block.id)/undo", [:])
            #expect(again.status == .conflict && again.body.contains("already undone"))

            let audit = try await AuditTrail.entries({ var f = AuditTrail.Filter(); f.action = "response."; return f }(), on: h.app.db as! any SQLDatabase)
            #expect(audit.map(\.action) == ["response.undo-block", "response.block"] && audit.allSatisfy { $0.target == "ip:127.0.0.9" })
        }
    }

    @Test("the API: a token blocks a source, lists and lifts it; refusals are problem documents", arguments: TestDatabase.all)
    func api(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let soar = try await APIv1Tests.token(h, .analyst, name: "soar")
            let schemas = try await APIv1Tests.schemas(h, token: soar)
            let created = try await APIv1Tests.call(h, .POST, "/api/v1/blocks", token: soar,
                                                    body: ["target": "2001:db8:9::/48", "minutes": 15, "reason": "scanner"])
            #expect(created.status == .created, "\(created.body)")
            try schemas.expect(created.body, "POST", "/api/v1/blocks", status: 201)
            let id = try #require(try created.json()["id"] as? String)
            let list = try await APIv1Tests.call(h, .GET, "/api/v1/blocks", token: soar)
            try schemas.expect(list.body, "GET", "/api/v1/blocks")
            let blocks = try list.json()["blocks"] as? [[String: Any]]
            #expect((blocks?.first?["target"] as? String)?.hasSuffix("/48") == true && blocks?.first?["actor"] as? String == "token:soar")
            #expect(h.app.secmon.runtime.responses.check("2001:db8:9:1::5", now: Timestamp.now().microseconds) != nil)
            let refused = try await APIv1Tests.call(h, .POST, "/api/v1/blocks", token: soar,
                                                    body: ["target": "127.0.0.1", "minutes": 15, "reason": "oops"])
            let field = try refused.json()["field"] as? String
            #expect(refused.status == .badRequest && field == "target")
            let undone = try await APIv1Tests.call(h, .POST, "/api/v1/blocks/\(id)/undo", token: soar)
            try schemas.expect(undone.body, "POST", "/api/v1/blocks/{id}/undo")
            let state = try undone.json()["state"] as? String
            #expect(state == "undone")
            #expect(h.app.secmon.runtime.responses.check("2001:db8:9:1::5", now: Timestamp.now().microseconds) == nil)
        }
    }

    @Test("the API for every kind: rate-limit, watch, lock, edit, undo, list by kind; allowlist and policies are admins'", arguments: TestDatabase.all)
    func actionsAPI(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("gina", role: .viewer)
            let soar = try await APIv1Tests.token(h, .analyst, name: "soar")
            let adminToken = try await APIv1Tests.token(h, .admin, name: "ops")
            let schemas = try await APIv1Tests.schemas(h, token: soar)
            let limited = try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: soar,
                                                    body: ["kind": "ratelimit", "target": "198.51.100.0/24", "minutes": 30, "rate": 12, "reason": "scraper"])
            #expect(limited.status == .created, "\(limited.body)")
            try schemas.expect(limited.body, "POST", "/api/v1/responses", status: 201)
            let limitID = try #require(try limited.json()["id"] as? String)
            let locked = try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: soar,
                                                   body: ["kind": "lock", "target": "gina", "minutes": 60, "reason": "phished"])
            let lockedTarget = try locked.json()["target"] as? String
            #expect(locked.status == .created && lockedTarget == "user:gina")
            let watched = try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: soar,
                                                    body: ["kind": "watch", "target": "user:gina", "minutes": 60, "reason": "follow up"])
            #expect(watched.status == .created)
            let list = try await APIv1Tests.call(h, .GET, "/api/v1/responses?kind=ratelimit", token: soar)
            try schemas.expect(list.body, "GET", "/api/v1/responses")
            let actions = try list.json()["actions"] as? [[String: Any]] ?? []
            #expect(actions.count == 1 && actions.first?["rate"] as? Int == 12 && actions.first?["state"] as? String == "in-force")
            let edited = try await APIv1Tests.call(h, .POST, "/api/v1/responses/\(limitID)/edit", token: soar, body: ["minutes": 5, "reason": "calmer now"])
            try schemas.expect(edited.body, "POST", "/api/v1/responses/{id}/edit")
            let reason = try edited.json()["reason"] as? String
            #expect(reason == "calmer now")
            let undone = try await APIv1Tests.call(h, .POST, "/api/v1/responses/\(limitID)/undo", token: soar)
            try schemas.expect(undone.body, "POST", "/api/v1/responses/{id}/undo")
            let undoneState = try undone.json()["state"] as? String
            #expect(undoneState == "undone")
            // The allowlist is administrators'.
            let allow = ["kind": "allow", "target": "203.0.113.0/24", "reason": "partner"] as [String: Any]
            #expect(try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: soar, body: allow).status == .forbidden)
            #expect(try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: adminToken, body: allow).status == .created)
            let unknown = try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: soar, body: ["kind": "nuke", "target": "x", "reason": "x"])
            let unknownField = try unknown.json()["field"] as? String
            #expect(unknown.status == .badRequest && unknownField == "kind")
            let extra = try await APIv1Tests.call(h, .POST, "/api/v1/responses", token: soar,
                                                  body: ["kind": "block", "target": "192.0.2.1", "minutes": 5, "reason": "x", "forever": true])
            #expect(extra.status == .badRequest)

            let policies = try await APIv1Tests.call(h, .GET, "/api/v1/response-policies", token: soar)
            try schemas.expect(policies.body, "GET", "/api/v1/response-policies")
            let d02 = try #require((try policies.json()["policies"] as? [[String: Any]])?.first { $0["rule"] as? String == "D-02" })
            #expect(d02["actions"] as? [String] == ["ratelimit", "watch"])
            let body: [String: Any] = ["actions": ["watch"], "minutes": 30, "version": d02["version"] as? Int ?? 0]
            #expect(try await APIv1Tests.call(h, .POST, "/api/v1/response-policies/D-02", token: soar, body: body).status == .forbidden)
            let saved = try await APIv1Tests.call(h, .POST, "/api/v1/response-policies/D-02", token: adminToken, body: body)
            #expect(saved.status == .ok, "\(saved.body)")
            try schemas.expect(saved.body, "POST", "/api/v1/response-policies/{rule}")
            let conflict = try await APIv1Tests.call(h, .POST, "/api/v1/response-policies/D-02", token: adminToken,
                                                     body: ["actions": ["block", "ratelimit"], "minutes": 30, "version": (d02["version"] as? Int ?? 0) + 1])
            let conflictField = try conflict.json()["field"] as? String
            #expect(conflict.status == .conflict && conflictField == "actions")
        }
    }

    @Test("bad blocks are refused by field and write nothing: allowlist, own address, not an address, durations")
    func refusals() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            let cases: [([String: String], String, String)] = [
                (["target": "127.0.0.1", "minutes": "30", "reason": "x"], "target", "allowlist"),
                (["target": "127.0.0.0/8", "minutes": "30", "reason": "x"], "target", "allowlist"),
                (["target": "::1", "minutes": "30", "reason": "x"], "target", "allowlist"),
                (["target": "::/0", "minutes": "30", "reason": "x"], "target", "allowlist"),
                (["target": "10.0.0.300", "minutes": "30", "reason": "x"], "target", "not an address"),
                (["target": "example.com", "minutes": "30", "reason": "x"], "target", "not an address"),
                (["target": "192.0.2.7", "minutes": "0", "reason": "x"], "minutes", "1 minute to 366 days"),
                (["target": "192.0.2.7", "minutes": "600000", "reason": "x"], "minutes", "1 minute to 366 days"),
                (["target": "192.0.2.7", "minutes": "30", "reason": " "], "reason", "say why"),
            ]
            for (form, field, words) in cases {
                let response = try await analyst.postForm("/response/act", form.merging(["kind": "block"]) { a, _ in a })
                #expect(response.status == .badRequest, "\(form)")
                #expect(response.body.contains("Nothing was done: \(field):") && response.body.contains(words), "\(form): \(response.body.prefix(400))")
            }
            // The analyst's own address (here the test's source is 127.0.0.1, allowlisted anyway; use an
            // analyst from another loopback address).
            let remoteAnalyst = Self.attacker(h, "127.0.0.20")
            try await h.createUser("ana2", role: .analyst)
            _ = try await remoteAnalyst.login("ana2", "user-password-123")
            let own = try await remoteAnalyst.postForm("/response/act", ["kind": "block", "target": "127.0.0.16/28", "minutes": "30", "reason": "x"])
            #expect(own.status == .badRequest && own.body.contains("your own address"))
            #expect(try await ResponseStore(database: h.app.db).recent().isEmpty)
            let missing = try await analyst.postForm("/response/no-such-action/undo", [:])
            #expect(missing.status == .notFound)
        }
    }

    @Test("from an incident: block its source; the block expires on time and survives a restart", arguments: TestDatabase.all)
    func fromIncidentExpiryRestart(db: TestDatabase) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-response-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let databaseConfig = try await db.makeFresh(in: dir)
        try await SecMonHarness.with(db, directory: dir, databaseConfig: databaseConfig) { h in
            // D-01's policy is off here: this test blocks by hand.
            try await ResponseTests.setPolicy(h, "D-01", enabled: false)
            _ = try await IncidentTests.simulator(h).run(.bruteForce)
            let incident = try #require(try await IncidentTests.incidents(h).first)
            let analyst = try await h.loggedIn(as: .analyst)
            let page = try await analyst.get("/incidents/\(incident.id)")
            #expect(page.body.contains("action=\"/incidents/\(incident.id)/respond\""))
            let blocked = try await analyst.postForm("/incidents/\(incident.id)/respond", ["kind": "block", "target": "127.0.0.2", "minutes": "60"])
            #expect(blocked.status == .seeOther)
            #expect(try await Self.attacker(h, "127.0.0.2").get("/login").status == .forbidden)
            let timeline = try await IncidentStore(database: h.app.db).timeline(incident.id)
            #expect(timeline.last?.kind == "response" && timeline.last?.summary.contains("Blocked 127.0.0.2") == true)
            #expect(try await analyst.get("/incidents/\(incident.id)").body.contains("(in force)"))
            // An expired block no longer applies (made an hour and a minute ago, for an hour).
            let past = Timestamp(microseconds: Timestamp.now().microseconds - 61 * 60_000_000)
            _ = try await ResponseStore(database: h.app.db, clock: { past }).apply(.block, target: "192.0.2.50", minutes: 60, reason: "old",
                                                                                   by: .user("test", ip: nil))
            await h.app.secmon.runtime.responses.reload()
            #expect(h.app.secmon.runtime.responses.check("192.0.2.50", now: Timestamp.now().microseconds) == nil)
            #expect(h.app.secmon.runtime.responses.check("127.0.0.2", now: Timestamp.now().microseconds) != nil)
            // A rate limit and an account lock, to see them survive the restart too.
            try await h.createUser("hana", role: .viewer)
            let store = ResponseStore(database: h.app.db)
            _ = try await store.apply(.rateLimit, target: "127.0.0.6", minutes: 60, reason: "slow down", rate: 1, by: .user("test", ip: nil))
            _ = try await store.apply(.lock, target: "hana", minutes: 60, reason: "phished", by: .user("test", ip: nil))
        }
        // After a restart the block is still in force from the first request.
        try await SecMonHarness.with(db, directory: dir, databaseConfig: databaseConfig) { h in
            let blocked = try await Self.attacker(h, "127.0.0.2").get("/login")
            let other = try await Self.attacker(h, "127.0.0.3").get("/login")
            #expect(blocked.status == .forbidden)
            #expect(other.status == .ok)
            let limited = Self.attacker(h, "127.0.0.6")
            let first = try await limited.get("/login")
            let second = try await limited.get("/login")
            #expect(first.status == .ok && second.status == .tooManyRequests)
            #expect(try await Self.attacker(h, "127.0.0.7").login("hana", "user-password-123").status == .unauthorized)
        }
    }
}
