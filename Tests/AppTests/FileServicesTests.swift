@testable import App
import FileInspection
import Incidents
import Foundation
import SQLKit
import Testing

/// File integrity and the scanner inside the server: checks store changes once and raise events
/// that the F- rules turn into incidents; accepting moves the baseline; scans are kept in the
/// history and a malicious verdict becomes an S-01 incident. On SQLite and PostgreSQL.
@Suite("Files in the app", .timeLimit(.minutes(10)))
struct FileServicesTests {
    /// A small tree standing for /etc and /usr/bin.
    static func makeTree() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-fim-\(UUID().uuidString)").path
        for (path, text) in [("etc/passwd", "root:x:0:0::/root:/bin/bash\n"), ("etc/hosts", "127.0.0.1 localhost\n"), ("usr/bin/tool", "#!/bin/sh\necho hi\n")] {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
        return root
    }

    static func count(_ sql: any SQLDatabase, _ query: SQLQueryString) async throws -> Int {
        try await sql.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    @Test("a check records the baseline, then reports each change once as an event and an incident; accepting moves the baseline", arguments: TestDatabase.all)
    func integrity(db: TestDatabase) async throws {
        let tree = try Self.makeTree()
        defer { try? FileManager.default.removeItem(atPath: tree) }
        try await SecMonHarness.with(db) { h in
            let sql = h.app.db as! any SQLDatabase
            let store = FileIntegrityStore(database: sql)
            let monitor = h.app.secmon.fileIntegrity
            let admin = AuditTrail.Actor.user("admin", ip: "127.0.0.1")
            try await store.saveSettings(paths: [tree + "/etc", tree + "/usr/bin/"], ignore: ["*.swp"], by: admin, on: h.app.db)
            #expect(try await store.settings().paths == [tree + "/etc", tree + "/usr/bin"])
            let first = try await monitor.check(initialise: true, by: .secmon)
            #expect(first.recordedBaseline && first.paths == 5 && first.problems.isEmpty)
            #expect(try await store.baselineSummary().count == 5)
            let quiet = try await monitor.check(initialise: true, by: .secmon)
            #expect(!quiet.recordedBaseline && quiet.changes.isEmpty)

            try Data("root:x:0:0::/root:/bin/bash\nmallory:x:0:0::/:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/passwd"))
            #expect(chmod(tree + "/etc/hosts", 0o666) == 0)
            try Data("swap".utf8).write(to: URL(fileURLWithPath: tree + "/etc/.passwd.swp"))
            try Data("\u{7f}ELF".utf8).write(to: URL(fileURLWithPath: tree + "/usr/bin/kworker"))
            let second = try await monitor.check(initialise: true, by: .secmon)
            let kinds = Dictionary(uniqueKeysWithValues: second.fresh.map { ($0.path.replacingOccurrences(of: tree, with: ""), $0.kind) })
            #expect(kinds == ["/etc/passwd": .modified, "/etc/hosts": .permissions, "/usr/bin/kworker": .added])
            // The same changes, still open, are not stored or raised again.
            let third = try await monitor.check(initialise: true, by: .secmon)
            #expect(third.changes.count == 3 && third.fresh.isEmpty)
            #expect(try await store.openCount() == 3)

            // Detected: F-05 (/etc/passwd), F-02, F-04, F-01, each an incident; stored as host events.
            for rule in ["F-05", "F-02", "F-04", "F-01"] {
                let opened = try await HostPagesTests.eventually(15) {
                    try await Self.count(sql, "SELECT COUNT(*) AS n FROM incidents WHERE rule = \(bind: rule)") > 0
                }
                #expect(opened, "no incident for \(rule)")
            }
            let stored = try await HostPagesTests.eventually(10) {
                try await HostEventStore(database: sql).recent(categories: ["file_event"], limit: 10).count == 3
            }
            let events = try await HostEventStore(database: sql).recent(categories: ["file_event"], limit: 10)
            #expect(stored && events.contains { $0.summary.hasPrefix("modified \(tree)/etc/passwd") })

            // Accept one change: its new state is the baseline; the others stay open.
            let passwd = try #require(try await store.changes(openOnly: true).first { $0.change.path.hasSuffix("/etc/passwd") })
            #expect(try await store.accept([passwd.id], by: admin, on: h.app.db) == 1)
            let afterOne = try await monitor.check(initialise: true, by: .secmon)
            #expect(Set(afterOne.changes.map { $0.path.replacingOccurrences(of: tree, with: "") }) == ["/etc/hosts", "/usr/bin/kworker"])
            #expect(try await store.change(passwd.id)?.status == "accepted")
            // Accept the whole new state.
            #expect(try await store.accept(nil, by: admin, on: h.app.db) == 2)
            #expect(try await monitor.check(initialise: true, by: .secmon).changes.isEmpty)
            // A file deleted after that is reported as deleted.
            try FileManager.default.removeItem(atPath: tree + "/usr/bin/tool")
            let deleted = try await monitor.check(initialise: true, by: .secmon)
            #expect(deleted.fresh.map(\.kind) == [.deleted])

            let actions = try await sql.raw("SELECT action FROM audit_log WHERE action LIKE 'fim.%' ORDER BY ts").all().map { try $0.decode(column: "action", as: String.self) }
            #expect(actions == ["fim.settings", "fim.baseline", "fim.accept", "fim.accept_all"])
            // Bad settings are refused with the field at fault.
            await #expect(throws: IncidentRefusal.self) { try await store.saveSettings(paths: ["etc"], ignore: [], by: admin, on: h.app.db) }
            await #expect(throws: IncidentRefusal.self) { try await store.saveSettings(paths: ["/etc"], ignore: ["/x/***"], by: admin, on: h.app.db) }
        }
    }

    @Test("scans are kept in the history; EICAR and a listed hash are malicious and open S-01 incidents; FIFOs are refused", arguments: TestDatabase.all)
    func scans(db: TestDatabase) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-scan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8).write(to: URL(fileURLWithPath: dir + "/eicar.com"))
        try Data("plain words\n".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        try Data("custom bad tool\n".utf8).write(to: URL(fileURLWithPath: dir + "/tool.bin"))
        try await SecMonHarness.with(db) { h in
            let sql = h.app.db as! any SQLDatabase
            let scans = h.app.secmon.fileScans
            let eicar = try await scans.scan(path: dir + "/eicar.com", name: "eicar.com", source: "upload", user: "admin")
            #expect(eicar.report.verdict == .malicious && eicar.report.reasons.first?.detail.contains("secmon_test_files") == true)
            // The bundled YARA rules run too (scripts/test.sh installs libyara).
            #expect(scans.yaraStatus.hasPrefix("on: 2 rule(s)"), "\(scans.yaraStatus)")
            #expect(eicar.report.reasons.contains { $0.code == "yara" && $0.detail.contains("EICAR_Test_File") })
            let clean = try await scans.scan(path: dir + "/notes.txt", name: "notes.txt", source: "upload", user: "admin")
            #expect(clean.report.verdict == .clean)
            // An administrator's list with the tool's hash.
            let digest = try FileScanner().scan(path: dir + "/tool.bin").digests.sha256
            _ = try await IndicatorListStore(database: sql).save(name: "malware_hashes", description: "from case 12", text: "# case 12\n\(digest)\n",
                                                                by: .user("admin", ip: nil), on: h.app.db)
            let listed = try await scans.scan(path: dir + "/tool.bin", name: "tool.bin", source: "path", user: "analyst")
            #expect(listed.report.verdict == .malicious && listed.report.reasons.contains { $0.detail.contains("malware_hashes") })

            let history = try await FileScanStore(database: sql).recent()
            #expect(history.map(\.name) == ["tool.bin", "notes.txt", "eicar.com"])
            #expect(try await FileScanStore(database: sql).find(eicar.id)?.report.digests.md5 == "44d88612fea8a8f36de82e1278abb02f")
            let opened = try await HostPagesTests.eventually(15) {
                try await Self.count(sql, "SELECT COUNT(*) AS n FROM incidents WHERE rule = 'S-01'") > 0
            }
            #expect(opened)
            let stored = try await HostPagesTests.eventually(10) {
                try await HostEventStore(database: sql).recent(categories: ["antivirus"], limit: 10).count == 2
            }
            #expect(stored, "both malicious verdicts are stored as host events")

            #expect(mkfifo(dir + "/pipe", 0o600) == 0)
            await #expect(throws: FileScanError.self) { _ = try await scans.scan(path: dir + "/pipe", name: "pipe", source: "path", user: "admin") }
            #expect(try await FileScanStore(database: sql).recent().count == 3)
        }
    }
}
