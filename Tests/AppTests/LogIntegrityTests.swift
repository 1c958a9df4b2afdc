@testable import App
import EventPipeline
import Foundation
import SQLKit
import Testing

/// Tamper-evident logs in the running server: the activity log's lines are chained and anchored in
/// the database; the Log integrity page (and `secmon verify-log`) says a log is intact, then where a
/// line was changed, then that its end was cut off.
@Suite("Log integrity", .timeLimit(.minutes(5)))
struct LogIntegrityTests {
    @Test("intact, then a changed line and a cut end are found, on the page and by secmon verify-log", arguments: TestDatabase.all)
    func tamper(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.logAnchorSeconds = 0.1 }) { h in
            let admin = try await h.loggedIn(as: .admin)
            for _ in 0..<5 { _ = try await h.client().get("/login") }
            try await h.flush()
            let log = absolutePath(h.config.logPath)
            let sql = h.app.db as! any SQLDatabase
            let anchored = try await HostPagesTests.eventually(10) {
                let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count
                return try await LogAnchorStore(database: sql).anchors(path: log).first.map { $0.sequence >= UInt64(lines) } ?? false
            }
            #expect(anchored, "the newest line is anchored")
            let intact = try await admin.postForm("/admin/logs/verify", [:])
            #expect(intact.status == .ok && intact.body.contains("<strong>Intact:</strong>"), "\(intact.body.prefix(3000))")

            // Change one letter of the third line, in place.
            let text = try String(contentsOfFile: log, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let offset = lines.prefix(2).reduce(0) { $0 + $1.utf8.count + 1 } + 2
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: log))
            try handle.seek(toOffset: UInt64(offset))
            let original = try #require(try handle.read(upToCount: 1)?.first)
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: Data([original == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")]))
            try handle.close()
            let changed = try await admin.postForm("/admin/logs/verify", [:])
            #expect(changed.body.contains("Not intact") && changed.body.contains("line 3: the line"), "\(changed.body.prefix(3000))")
            let audit = try await HostResponsePagesTests.audit(h, "logs.verify")
            #expect(audit.contains { $0.1.hasPrefix("intact") } && audit.contains { $0.1.contains("problem(s): line 3") })

            // The command line says the same, with exit status 1.
            let dir = URL(fileURLWithPath: h.config.dataDirectory)
            let env = ["SECMON_LOG_PATH": log, "SECMON_HOST_LOG": absolutePath(h.config.hostLogPath), "SECMON_DATA_DIR": h.config.dataDirectory]
            // The chains alone: the anchors were checked above, and a second process's PostgreSQL pool
            // beside the whole suite's can pass the server's connection limit.
            let cli = try await CommandLineTests.runDetached(["verify-log", "--no-database"], in: dir, env: env)
            #expect(cli.status == 1 && cli.output.contains("line 3: the line") && cli.output.contains("1 problem(s)"), "\(cli.output)\n\(cli.error)")
        }
    }

    @Test("a log whose end was cut off is found")
    func cutEnd() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.logAnchorSeconds = 0.1 }) { h in
            // Logged in first: nothing more is written until the check.
            let admin = try await h.loggedIn(as: .admin)
            for _ in 0..<6 { _ = try await h.client().get("/login") }
            try await h.flush()
            let log = absolutePath(h.config.logPath)
            let sql = h.app.db as! any SQLDatabase
            let count = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count
            let anchored = try await HostPagesTests.eventually(10) {
                try await LogAnchorStore(database: sql).anchors(path: log).first.map { $0.sequence >= UInt64(count) } ?? false
            }
            #expect(anchored)
            // Keep the first three lines only.
            let kept = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: log))
            try handle.truncate(atOffset: UInt64(kept.utf8.count))
            try handle.close()
            let page = try await admin.postForm("/admin/logs/verify", [:])
            // Cut at the end, or (when the server wrote a line since) cut before that line: both said.
            #expect(page.body.contains("Not intact") && (page.body.contains("the end of the log was cut off") || page.body.contains("goes from its line 3 to")),
                    "\(page.body.prefix(3000))")
        }
    }
}
