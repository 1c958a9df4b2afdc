@testable import App
import Foundation
import SecurityModel
import Testing

/// Detection inside the server: the server's own activity runs through the rule pack live, and
/// alerts reach the `alerts` table and `/api/alerts` within about a second.
@Suite("Live detection")
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
                if Set(found.compactMap { $0["rule"] as? String }).isSuperset(of: ["D-01", "D-05"]) { break }
            }
            let d01 = try #require(found.first { $0["rule"] as? String == "D-01" }, "\(found)")
            #expect(d01["level"] as? String == "high")
            #expect(d01["group"] as? String == "ip_address=127.0.0.1")
            #expect(d01["event_count"] as? Int == 4)
            let ids = try #require(d01["events"] as? [String])
            let failures = try await h.logObjects().filter { $0["action"] as? String == "LOGIN_FAILURE" }.compactMap { $0["event_id"] as? String }
            #expect(ids.count == 4)
            #expect(Set(ids).isSubset(of: Set(failures)))
            let d05 = try #require(found.first { $0["rule"] as? String == "D-05" })
            #expect(d05["event_count"] as? Int == 5)
            // Viewers may not read alerts.
            let viewer = try await h.loggedIn(as: .viewer)
            #expect(try await viewer.get("/api/alerts").status == .forbidden)
        }
    }

    @Test("a quiet alert closes when its window empties, without further events")
    func closesWhenQuiet() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let detection = try #require(h.app.secmon.recorder.detection)
            let start = Timestamp(secondsSince1970: Date().timeIntervalSince1970)
            for i in 0..<4 {
                detection.observe(ActivityEvent(timestamp: start.adding(seconds: Double(i)), ipAddress: "203.0.113.7", username: "anonymous",
                                                action: .loginFailure, eventID: "e\(i)"))
            }
            detection.advance(to: start.adding(seconds: 10))
            try await detection.flush()
            let analyst = try await h.loggedIn(as: .analyst)
            var open = try await Self.alerts(analyst).filter { $0["group"] as? String == "ip_address=203.0.113.7" }
            #expect(open.first?["status"] as? String == "open")
            detection.advance(to: start.adding(seconds: 400))
            try await detection.flush()
            open = try await Self.alerts(analyst).filter { $0["group"] as? String == "ip_address=203.0.113.7" }
            #expect(open.count == 1)
            #expect(open.first?["status"] as? String == "closed")
            #expect(open.first?["events"] as? [String] == ["e0", "e1", "e2", "e3"])
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
