@testable import App
import Foundation
import SQLKit
import SecurityModel
import Testing

/// Detection inside the server: the server's own activity runs through the rule pack live, and
/// alerts reach the `alerts` table and `/api/alerts` within about a second.
@Suite("Live detection", .timeLimit(.minutes(10)))
struct LiveDetectionTests {
    static func alerts(_ client: TestClient) async throws -> [[String: Any]] {
        let response = try await client.get("/api/alerts")
        #expect(response.status == .ok)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        #expect(object["detection"] as? Bool == true)
        return try #require(object["alerts"] as? [[String: Any]])
    }

    @Test("failed logins from one address raise D-01 and password spraying D-05, with the events' ids", arguments: TestDatabase.all)
    func bruteForce(_ database: TestDatabase) async throws {
        try await SecMonHarness.with(database) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await Self.alerts(analyst).isEmpty)
            let attacker = h.client()
            for name in ["root", "admin", "oracle", "test", "guest"] {
                #expect(try await attacker.login(name, "wrong-password").status == .unauthorized)
            }
            var found: [[String: Any]] = []
            for _ in 0..<100 {
                try await Task.sleep(for: .milliseconds(100))
                try await h.flush()
                found = try await Self.alerts(analyst)
                if Set(found.compactMap { $0["rule"] as? String }).isSuperset(of: ["D-01", "D-05"]),
                   found.first(where: { $0["rule"] as? String == "D-01" })?["event_count"] as? Int == 5 { break }
            }
            let d01 = try #require(found.first { $0["rule"] as? String == "D-01" }, "\(found)")
            #expect(d01["level"] as? String == "high")
            #expect(d01["group"] as? String == "ip_address=127.0.0.1")
            #expect(d01["group_by"] as? [[String: String]] == [["field": "ip_address", "value": "127.0.0.1"]])
            #expect(d01["entities"] as? [String] == ["ip:127.0.0.1"])
            #expect(d01["status"] as? String == "open")
            // The fifth failure extended the open alert: stored at once, not when the episode ends.
            #expect(d01["event_count"] as? Int == 5)
            let ids = try #require(d01["events"] as? [String])
            let failures = try await h.logObjects().filter { $0["action"] as? String == "LOGIN_FAILURE" }.compactMap { $0["event_id"] as? String }
            #expect(ids == failures)
            // Each evidence id opens its event (the API and the activity page filter by it).
            let one = try await analyst.get("/api/events?event=\(ids[0])")
            let events = try #require((try JSONSerialization.jsonObject(with: Data(one.body.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
            #expect(events.count == 1)
            #expect(events.first?["event_id"] as? String == ids[0])
            #expect(events.first?["action"] as? String == "LOGIN_FAILURE")
            let page = try await analyst.get("/activity?event=\(ids[0])")
            #expect(page.status == .ok)
            #expect(page.body.components(separatedBy: "a-LOGIN_FAILURE").count == 2)
            let d05 = try #require(found.first { $0["rule"] as? String == "D-05" })
            #expect(d05["event_count"] as? Int == 5)
            // Viewers may not read alerts.
            let viewer = try await h.loggedIn(as: .viewer)
            #expect(try await viewer.get("/api/alerts").status == .forbidden)
        }
    }

    /// A rule directory with two correlations over failed logins from one address: more than one
    /// within a minute, and any within a second (Q-09, which closes soon after).
    static func quickRules() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-quickrules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
            title: Failed login
            name: failed_login
            logsource: {product: secmon, service: activity}
            detection:
              selection: {action: LOGIN_FAILURE}
              condition: selection
            level: low
            ---
            title: Quick brute force
            id: Q-01
            correlation:
              type: event_count
              rules: [failed_login]
              group-by: [ip_address]
              timespan: 60s
              condition: {gt: 1}
            level: high
            ---
            title: Any failed login, briefly
            id: Q-09
            correlation:
              type: event_count
              rules: [failed_login]
              group-by: [ip_address]
              timespan: 1s
              condition: {gte: 1}
            level: low
            """.write(to: dir.appendingPathComponent("quick.yml"), atomically: true, encoding: .utf8)
        return dir.path
    }

    static func waitFor(_ h: SecMonHarness, rule: String, _ done: (AlertStore.Row) -> Bool) async throws -> AlertStore.Row? {
        let store = AlertStore(database: h.app.db as! any SQLDatabase)
        for _ in 0..<400 {
            if let row = try await store.all(rule: rule).first, done(row) { return row }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try await store.all(rule: rule).first
    }

    @Test("an open alert's stored count follows its episode as it grows, and the alert closes when its window empties", arguments: TestDatabase.all)
    func episodeGrows(_ database: TestDatabase) async throws {
        let rules = try Self.quickRules()
        try await SecMonHarness.with(database, adjust: { $0.rulesPath = rules }) { h in
            let attacker = h.client()
            // Other user names each time: more than three failures for one name from one address are throttled.
            for index in 0..<2 { _ = try await attacker.login("root\(index)", "wrong-password") }
            // Stored while open, without waiting for a lateness window or the episode's end.
            try await h.flush()
            let opened = try #require(try await Self.waitFor(h, rule: "Q-01") { $0.eventCount == 2 })
            #expect(opened.status == "open")
            #expect(opened.eventCount == 2)
            #expect(opened.group == [SecurityAlert.GroupValue(field: "ip_address", value: "127.0.0.1")])
            #expect(opened.entities == [Entity(.ip, "127.0.0.1")])
            #expect(opened.node == h.config.nodeName)
            for index in 2..<5 { _ = try await attacker.login("root\(index)", "wrong-password") }
            try await h.flush()
            let grown = try #require(try await Self.waitFor(h, rule: "Q-01") { $0.eventCount == 5 })
            #expect(grown.id == opened.id)
            #expect(grown.status == "open")
            #expect(grown.eventCount == 5)
            #expect(grown.events.count == 5)
            let failures = try await h.logObjects().filter { $0["action"] as? String == "LOGIN_FAILURE" }.compactMap { $0["event_id"] as? String }
            #expect(grown.events == failures)
            #expect(try await AlertStore(database: h.app.db as! any SQLDatabase).all(rule: "Q-01").count == 1)
            // Quiet: the clock's tick closes Q-09 once its one-second window has emptied, without events.
            let store = AlertStore(database: h.app.db as! any SQLDatabase)
            var quick: [AlertStore.Row] = []
            for _ in 0..<400 {
                quick = try await store.all(rule: "Q-09")
                if !quick.isEmpty, quick.allSatisfy({ $0.status == "closed" }) { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(!quick.isEmpty)
            #expect(quick.allSatisfy { $0.status == "closed" })
            #expect(quick.reduce(0) { $0 + $1.eventCount } == 5)
        }
    }

    @Test("alert ids survive a restart; alerts open at shutdown are closed, and ones a crash left open are closed at the next start", arguments: TestDatabase.all)
    func restart(_ database: TestDatabase) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let databaseConfig = try await database.makeFresh(in: dir)
        let rules = try Self.quickRules()
        var firstID = ""
        try await SecMonHarness.with(database, directory: dir, databaseConfig: databaseConfig, adjust: { $0.rulesPath = rules }) { h in
            let attacker = h.client()
            for index in 2..<5 { _ = try await attacker.login("root\(index)", "wrong-password") }
            try await h.flush()
            let row = try #require(try await Self.waitFor(h, rule: "Q-01") { $0.eventCount == 3 })
            #expect(row.status == "open")
            firstID = row.id
        }
        try await SecMonHarness.with(database, directory: dir, databaseConfig: databaseConfig, adjust: { $0.rulesPath = rules }) { h in
            let store = AlertStore(database: h.app.db as! any SQLDatabase)
            // Closed by the graceful shutdown, same id, same count.
            let row = try #require(try await store.find(firstID))
            #expect(row.status == "closed")
            #expect(row.eventCount == 3)
            // A row this node left open (as after a crash), and another node's.
            for (id, node) in [("crashed-1", h.config.nodeName), ("other-1", "other-node")] {
                _ = try await store.save(SecurityAlert(
                    id: id, rule: "X-\(id)", title: "t", level: .low, group: [], entities: [], firstTime: Timestamp(microseconds: 1),
                    lastTime: Timestamp(microseconds: 2), eventCount: 1, evidence: [], status: .open, node: node), rowID: nil)
            }
        }
        let id = firstID
        try await SecMonHarness.with(database, directory: dir, databaseConfig: databaseConfig, adjust: { $0.rulesPath = rules }) { h in
            let store = AlertStore(database: h.app.db as! any SQLDatabase)
            let crashed = try await store.find("crashed-1")
            let other = try await store.find("other-1")
            let first = try await store.find(id)
            #expect(crashed?.status == "closed")
            #expect(other?.status == "open")
            #expect(first?.eventCount == 3)
        }
    }

    @Test("two nodes that raise the same alert share one row: no attack is shown twice", arguments: TestDatabase.all)
    func nodesShareOneRow(_ database: TestDatabase) async throws {
        try await SecMonHarness.with(database, adjust: { $0.liveDetection = false }) { h in
            let store = AlertStore(database: h.app.db as! any SQLDatabase)
            func alert(_ id: String, node: String, first: Int64, last: Int64, count: Int, status: SecurityAlert.Status = .open) -> SecurityAlert {
                SecurityAlert(id: id, rule: "D-01", title: "Brute force", level: .high,
                              group: [.init(field: "ip_address", value: "203.0.113.9")], entities: [Entity(.ip, "203.0.113.9")],
                              firstTime: Timestamp(microseconds: first), lastTime: Timestamp(microseconds: last), eventCount: count,
                              evidence: (0..<count).map { "\(node)-\($0)" }, status: status, node: node)
            }
            let a = try await store.save(alert("alert-a", node: "a", first: 100, last: 200, count: 4), rowID: nil)
            let b = try await store.save(alert("alert-b", node: "b", first: 150, last: 300, count: 6), rowID: nil)
            #expect(a == "alert-a")
            #expect(b == "alert-a")
            var rows = try await store.all(rule: "D-01")
            #expect(rows.count == 1)
            #expect(rows.first?.firstTime == Timestamp(microseconds: 100))
            #expect(rows.first?.lastTime == Timestamp(microseconds: 300))
            #expect(rows.first?.eventCount == 6)
            // Node b goes on updating through the shared row, and closes it; closed stays closed.
            _ = try await store.save(alert("alert-b", node: "b", first: 150, last: 400, count: 7, status: .closed), rowID: b)
            _ = try await store.save(alert("alert-a", node: "a", first: 100, last: 250, count: 5), rowID: a)
            rows = try await store.all(rule: "D-01")
            #expect(rows.count == 1)
            #expect(rows.first?.status == "closed")
            #expect(rows.first?.lastTime == Timestamp(microseconds: 400))
            // A new episode after the close is a new row.
            _ = try await store.save(alert("alert-c", node: "a", first: 1000, last: 1100, count: 4), rowID: nil)
            #expect(try await store.all(rule: "D-01").count == 2)
        }
    }

    @Test("the health endpoint shows the pipeline's counters")
    func health() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let anyone = h.client()
            _ = try await anyone.login("nobody", "wrong-password")
            try await h.flush()
            let response = try await anyone.get("/healthz")
            #expect(response.status == .ok)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect(object["status"] as? String == "ok")
            let intake = try #require(object["intake"] as? [String: Any])
            #expect((intake["accepted"] as? Int ?? 0) >= 1)
            #expect(intake["dropped"] as? Int == 0)
            let detection = try #require(object["detection"] as? [String: Any])
            #expect((detection["rules"] as? Int ?? 0) > 10)
            let log = try #require(object["activity_log"] as? [String: Any])
            #expect((log["appended"] as? Int ?? 0) >= 1)
            #expect(log["dropped"] as? Int == 0)
            let sinks = try #require(object["sinks"] as? [[String: Any]])
            #expect(sinks.map { $0["name"] as? String } == ["alert-store", "live", "incidents"])
        }
    }

    @Test("rules reload without a restart; a broken set is refused with its errors and the running rules stay", arguments: TestDatabase.all)
    func reload(_ database: TestDatabase) async throws {
        let rules = try Self.quickRules()
        try await SecMonHarness.with(database, adjust: { $0.rulesPath = rules }) { h in
            let admin = try await h.loggedIn(as: .admin)
            // A broken file: refused, with the file and line; nothing changes.
            let bad = URL(fileURLWithPath: rules).appendingPathComponent("bad.yml")
            try "title: t\nid: X\ndetection:\n  sel:\n    a|nope: 1\n  condition: sel\nlevel: low\n".write(to: bad, atomically: true, encoding: .utf8)
            var response = try await admin.postForm("/api/rules/reload", [:])
            #expect(response.status == .unprocessableEntity)
            #expect(response.body.contains("bad.yml:5"))
            #expect(response.body.contains("refused"))
            // The page says the same to a person.
            response = try await admin.postForm("/rules/reload", [:])
            #expect(response.status == .unprocessableEntity)
            #expect(response.body.contains("The rules were not reloaded"))
            #expect(response.body.contains("bad.yml:5"))
            // The running rules still detect.
            let attacker = h.client()
            // Other user names each time: more than three failures for one name from one address are throttled.
            for index in 0..<2 { _ = try await attacker.login("root\(index)", "wrong-password") }
            try await h.flush()
            let first = try #require(try await Self.waitFor(h, rule: "Q-01") { $0.eventCount == 2 })
            // Fixed and changed (a new id): reloaded; the old rule's open alert is closed.
            try FileManager.default.removeItem(at: bad)
            let quick = URL(fileURLWithPath: rules).appendingPathComponent("quick.yml")
            try String(contentsOf: quick, encoding: .utf8).replacingOccurrences(of: "id: Q-01", with: "id: Q-02")
                .write(to: quick, atomically: true, encoding: .utf8)
            response = try await admin.postForm("/api/rules/reload", [:])
            #expect(response.status == .ok, "\(response.body)")
            #expect(response.body.contains("\"rules\":3"))
            // Q-09 did not change: its state carried over. Q-01 became Q-02: a new, empty correlation.
            #expect(response.body.contains("\"kept\":[\"Q-09\"]"), "\(response.body)")
            #expect(response.body.contains("\"reset\":[\"Q-01\"]"), "\(response.body)")
            try await h.flush()
            let closed = try #require(try await Self.waitFor(h, rule: "Q-01") { $0.status == "closed" })
            #expect(closed.id == first.id)
            // Other user names each time: more than three failures for one name from one address are throttled.
            for index in 0..<2 { _ = try await attacker.login("root\(index)", "wrong-password") }
            try await h.flush()
            let second = try #require(try await Self.waitFor(h, rule: "Q-02") { $0.eventCount == 2 })
            #expect(second.status == "open")
            // Analysts may not reload.
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.postForm("/api/rules/reload", [:]).status == .forbidden)
        }
    }

    @Test("the dashboard shows the detection pipeline to analysts and admins, with the reload button for admins only")
    func dashboardPanel() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let admin = try await h.loggedIn(as: .admin)
            var page = try await admin.get("/")
            #expect(page.body.contains("id=\"pipeline\""))
            #expect(page.body.contains("Rules loaded"))
            #expect(page.body.contains("action=\"/rules/reload\""))
            let analyst = try await h.loggedIn(as: .analyst)
            page = try await analyst.get("/")
            #expect(page.body.contains("id=\"pipeline\""))
            #expect(!page.body.contains("action=\"/rules/reload\""))
            let viewer = try await h.loggedIn(as: .viewer)
            page = try await viewer.get("/")
            #expect(!page.body.contains("id=\"pipeline\""))
        }
    }

    @Test("a broken rule directory stops startup with the problems listed")
    func brokenRules() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-badrules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "title: t\nid: X\ndetection:\n  sel:\n    a|nope: 1\n  condition: sel\nlevel: low\n".write(to: dir.appendingPathComponent("bad.yml"), atomically: true, encoding: .utf8)
        await #expect { try await SecMonHarness.with(.sqlite, adjust: { $0.rulesPath = dir.path }) { _ in } } throws: { error in
            let text = "\(error)"
            return text.contains("bad.yml:5: error: [X]") && text.contains("secmon rules validate")
        }
    }
}
