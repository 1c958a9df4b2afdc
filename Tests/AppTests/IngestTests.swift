@testable import App
import Foundation
import SQLKit
import Testing

/// HTTP ingest: an administrator makes a key for a sending host on the Sources page; the host posts
/// its auth log; its lines raise D-08 with its name on the events; refused lines are named by
/// number; no key, a wrong or revoked key, and a body over 4 MiB are refused; analysts cannot make keys.
@Suite("HTTP ingest", .timeLimit(.minutes(5)))
struct IngestTests {
    @Test("a host's auth log posted with its key opens a D-08 incident; refusals are named", arguments: TestDatabase.all)
    func ingest(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let made = try await admin.postForm("/sources/ingest-keys", ["name": "web-2", "format": "syslog"])
            #expect(made.status == .ok && made.body.contains("id=\"ingest-new-key\""), "\(made.body.prefix(400))")
            let key = try #require(made.body.firstMatch(of: /<code class="mono">(smi_[A-Za-z0-9_-]+)<\/code>/)?.1).description
            #expect(try await admin.postForm("/sources/ingest-keys", ["name": "web-2", "format": "syslog"]).status == .conflict)
            #expect(try await admin.postForm("/sources/ingest-keys", ["name": "bad name!", "format": "syslog"]).status == .badRequest)

            var body = ""
            for n in 1...7 { body += "Dec  2 10:00:0\(n) web-2 sshd[3\(n)]: Failed password for root from 203.0.113.88 port 5100\(n) ssh2\n" }
            body += "not a syslog line\r\n\n"
            let sender = h.client()
            let posted = try await sender.send(.POST, "/ingest", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "text/plain")], body: body)
            #expect(posted.status == .ok, "\(posted.body)")
            let answer = try posted.json()
            #expect(answer["source"] as? String == "web-2" && answer["accepted"] as? Int == 7 && answer["rejected"] as? Int == 1)
            #expect((answer["rejections"] as? [[String: Any]])?.first?["line"] as? Int == 8)

            let sql = h.app.db as! any SQLDatabase
            let opened = try await HostPagesTests.eventually(15) {
                try await sql.raw("SELECT COUNT(*) AS n FROM incidents WHERE rule = 'D-08'").first()?.decode(column: "n", as: Int.self) ?? 0 > 0
            }
            #expect(opened)
            let stored = try await HostPagesTests.eventually(10) { try await HostEventStore(database: sql).recent(categories: ["sshd"], limit: 20).count == 7 }
            #expect(stored)
            let newest = try #require(try await HostEventStore(database: sql).recent(categories: ["sshd"], limit: 1).first)
            #expect(newest.computer == "web-2" && newest.user == "root", "the events carry the sending host's name: \(newest)")
            let page = try await admin.get("/sources")
            #expect(page.body.contains("web-2") && page.body.contains("line 8: not a syslog line"), "\(page.body.prefix(3000))")

            // Refused: no key, a wrong key, a body over 4 MiB, then the revoked key.
            #expect(try await sender.send(.POST, "/ingest", body: body).status == .unauthorized)
            #expect(try await sender.send(.POST, "/ingest", headers: [("Authorization", "Bearer smi_wrong")], body: body).status == .unauthorized)
            let huge = String(repeating: "x", count: (4 << 20) + 10)
            #expect(try await sender.send(.POST, "/ingest", headers: [("Authorization", "Bearer \(key)")], body: huge).status == .payloadTooLarge)
            let id = try #require(page.body.firstMatch(of: /action="\/sources\/ingest-keys\/([0-9a-f-]+)\/revoke"/)?.1).description
            let revoked = try await admin.postForm("/sources/ingest-keys/\(id)/revoke", [:])
            #expect(revoked.status == .ok && revoked.body.contains("is revoked"))
            #expect(try await sender.send(.POST, "/ingest", headers: [("Authorization", "Bearer \(key)")], body: body).status == .unauthorized)
            let audit = try await HostResponsePagesTests.audit(h, "ingest-key.")
            #expect(audit.map(\.0) == ["ingest-key.create", "ingest-key.revoke"])
            // Analysts see the page and make no keys.
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.get("/sources").status == .ok)
            #expect(try await analyst.postForm("/sources/ingest-keys", ["name": "db-1", "format": "json"]).status == .forbidden)
        }
    }
}
