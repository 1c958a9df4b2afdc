@testable import App
import EventPipeline
import Foundation
import SecurityModel
import SQLKit
import Testing

/// A followed sshd log in the running server: lines appended to it raise D-08 (SSH brute force)
/// and open its incident, with the lines as evidence; the Sources page and API show the file's
/// counts, the refused line's reason and line number; the position is kept in the database.
@Suite("Sources: followed log files", .timeLimit(.minutes(5)))
struct SourcesTests {
    @Test("an sshd brute force written to a followed auth log opens a D-08 incident; the page shows the counts", arguments: TestDatabase.all)
    func sshBruteForce(db: TestDatabase) async throws {
        let files = try TempFiles()
        let auth = try files.write("auth.log", "Dec  2 09:59:59 web-1 sshd[100]: Accepted publickey for deploy from 192.0.2.10 port 50000 ssh2\n")
        try await SecMonHarness.with(db, adjust: { $0.tailFiles = [FileTailSource.Spec(path: auth, format: .syslog)]; $0.tailPollSeconds = 0.05 }) { h in
            let tails = try #require(h.app.secmon.tails)
            let following = try await HostPagesTests.eventually(10) { tails.statuses.first?.state == "following" }
            #expect(following)
            var lines = ""
            for n in 1...7 {
                lines += "Dec  2 10:00:0\(n) web-1 sshd[2\(n)]: Failed password for root from 203.0.113.77 port \(41000 + n) ssh2\n"
            }
            lines += "this is not syslog\n"
            try FileTailSourceHelper.append(auth, lines)
            let sql = h.app.db as! any SQLDatabase
            let opened = try await HostPagesTests.eventually(15) {
                try await sql.raw("SELECT COUNT(*) AS n FROM incidents WHERE rule = 'D-08'").first()?.decode(column: "n", as: Int.self) ?? 0 > 0
            }
            #expect(opened, "D-08 opened an incident from the followed file")
            let incident = try #require(try await sql.raw("SELECT id, title FROM incidents WHERE rule = 'D-08'").first())
            #expect(try incident.decode(column: "title", as: String.self).contains("203.0.113.77"))
            // The lines are stored as events: the alert's evidence can be read.
            let stored = try await HostPagesTests.eventually(10) {
                let rows = try await HostEventStore(database: sql).recent(categories: ["sshd"], limit: 20)
                return rows.count == 7 && rows.allSatisfy { $0.summary.contains("Failed password for root from 203.0.113.77") }
            }
            #expect(stored)
            let counted = try await HostPagesTests.eventually(10) { tails.statuses.first?.rejected == 1 }
            #expect(counted)

            let analyst = try await h.loggedIn(as: .analyst)
            let page = try await analyst.get("/sources")
            #expect(page.status == .ok && page.body.contains(auth) && page.body.contains("following"))
            #expect(page.body.contains("Last line refused") && page.body.contains("line 8:"), "\(page.body.prefix(2000))")
            let api = try await analyst.get("/api/v1/sources")
            #expect(api.status == .ok && api.body.contains(#""events":7"#) && api.body.contains(#""rejected":1"#), "\(api.body)")
            try await h.createUser("vera", role: .viewer)
            let viewer = h.client()
            _ = try await viewer.login("vera", "user-password-123")
            #expect(try await viewer.get("/sources").status == .forbidden)
            // The position is saved (every 2 s while lines come, and at shutdown).
            let saved = try await HostPagesTests.eventually(10) {
                try await TailPositionStore(database: sql).load().first?.line == 8
            }
            #expect(saved)
        }
    }
}

enum FileTailSourceHelper {
    static func append(_ path: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}
