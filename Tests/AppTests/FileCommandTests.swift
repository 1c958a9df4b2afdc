import Foundation
import Testing

/// `secmon fim` and `secmon scan` as a script uses them: tables and JSON, the exit codes, the
/// scan history they share with the console, and what a user without rights sees.
@Suite("File commands", .timeLimit(.minutes(10)))
struct FileCommandTests {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    @Test("fim baseline, then check: each kind of change sets its exit bit; the JSON lists them", arguments: TestDatabase.all)
    func fim(db: TestDatabase) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.executable.path), "build secmon first (scripts/test.sh does)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-fimcli-\(UUID().uuidString)")
        let tree = dir.appendingPathComponent("tree").path
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var env: [String: String] = [:]
        if case .postgres(let url) = try await db.makeFresh(in: dir) { env["DATABASE_URL"] = url }
        for (name, text) in [("passwd", "root:x:0:0\n"), ("hosts", "127.0.0.1 localhost\n"), ("bin/tool", "#!/bin/sh\n")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: tree + "/" + name))
        }
        let baseline = try CommandLineTests.run(["fim", "baseline", tree, tree + "/absent", "--ignore", "*.swp"], in: dir, env: env)
        #expect(baseline.status == 0, "\(baseline.error)")
        #expect(baseline.output.contains("Baseline recorded: 5 paths (3 files, 2 directories, 0 links)"), "\(baseline.output)")
        #expect(baseline.output.contains("not present (watched all the same): \(tree)/absent"))
        let quiet = try CommandLineTests.run(["fim", "check"], in: dir, env: env)
        #expect(quiet.status == 0 && quiet.output.contains("0 change(s)"), "\(quiet.output)\(quiet.error)")

        try Data("root:x:0:0\nmallory:x:0:0\n".utf8).write(to: URL(fileURLWithPath: tree + "/passwd"))
        #expect(chmod(tree + "/hosts", 0o666) == 0)
        try FileManager.default.removeItem(atPath: tree + "/bin/tool")
        try Data("x".utf8).write(to: URL(fileURLWithPath: tree + "/bin/dropper"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: tree + "/.passwd.swp"))
        let check = try CommandLineTests.run(["fim", "check", "--output", "json"], in: dir, env: env)
        #expect(check.status == 1 + 2 + 4 + 8, "\(check.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any])
        let changes = try #require(json["changes"] as? [[String: Any]])
        let kinds = Dictionary(uniqueKeysWithValues: changes.compactMap { change -> (String, String)? in
            guard let path = change["path"] as? String, let kind = change["kind"] as? String else { return nil }
            return (String(path.dropFirst(tree.count)), kind)
        })
        // Directories are compared on type, mode and owner only: bin/ is not reported.
        #expect(kinds.count == 4, "\(kinds)")
        #expect(kinds["/passwd"] == "modified" && kinds["/hosts"] == "permissions" && kinds["/bin/tool"] == "deleted" && kinds["/bin/dropper"] == "added")
        #expect(kinds["/.passwd.swp"] == nil)
        #expect(json["absent"] as? [String] == [tree + "/absent"])
        // Read-only: the same check answers the same.
        #expect(try CommandLineTests.run(["fim", "check"], in: dir, env: env).status == 15)
    }

    @Test("scan: EICAR is malicious (exit 2), a plain file clean, a FIFO not scanned (exit 4); reports join the console's history")
    func scan() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.executable.path), "build secmon first (scripts/test.sh does)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-scancli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let eicar = dir.appendingPathComponent("eicar.com").path
        let notes = dir.appendingPathComponent("notes.txt").path
        try Data(Self.eicar.utf8).write(to: URL(fileURLWithPath: eicar))
        try Data("plain words\n".utf8).write(to: URL(fileURLWithPath: notes))
        #expect(mkfifo(dir.appendingPathComponent("pipe").path, 0o600) == 0)
        // No reputation lookup here, whatever the environment holds.
        let env = ["SECMON_REPUTATION_KEY": ""]

        let clean = try CommandLineTests.run(["scan", notes], in: dir, env: env)
        #expect(clean.status == 0 && clean.output.contains("VERDICT   CLEAN"), "\(clean.output)\(clean.error)")
        #expect(clean.output.contains("1 kept in the scan history"))
        let malicious = try CommandLineTests.run(["scan", eicar, notes, "--output", "json"], in: dir, env: env)
        #expect(malicious.status == 2, "\(malicious.error)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(malicious.output.utf8)) as? [[String: Any]])
        #expect(reports.map { $0["verdict"] as? String } == ["malicious", "clean"])
        let fifo = try CommandLineTests.run(["scan", "pipe", eicar, "--no-database"], in: dir, env: env)
        #expect(fifo.status == 2 + 4 && fifo.error.contains("not a regular file (FIFO)"), "\(fifo.error)")
        // --no-database keeps nothing; the others did, for Files › Scanner.
        let history = try CommandLineTests.run(["scan", notes, "--output", "json"], in: dir, env: env)
        #expect(history.status == 0)
        let store = dir.appendingPathComponent("data/secmon.sqlite").path
        #expect(FileManager.default.fileExists(atPath: store))
        let count = try Self.sqliteCount(store, "SELECT COUNT(*) FROM file_scans WHERE source = 'cli'")
        #expect(count == 4, "1 + 2 + 1 scans kept, none from --no-database")
    }

    @Test("a file its user cannot read is not scanned (exit 4), with the reason; nothing else is lost")
    func unreadable() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.executable.path), "build secmon first (scripts/test.sh does)")
        // As root every file is readable: the scan runs as nobody through setpriv (util-linux).
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let dir = URL(fileURLWithPath: "/tmp/secmon-nobody-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(chmod(dir.path, 0o755) == 0)
        let secret = dir.appendingPathComponent("secret").path
        let open = dir.appendingPathComponent("open.txt").path
        try Data("s".utf8).write(to: URL(fileURLWithPath: secret))
        try Data("o".utf8).write(to: URL(fileURLWithPath: open))
        #expect(chmod(secret, 0o600) == 0 && chmod(open, 0o644) == 0)
        // The binary's directory may not be reachable by nobody: run a copy.
        let binary = dir.appendingPathComponent("secmon").path
        try FileManager.default.copyItem(atPath: CommandLineTests.executable.path, toPath: binary)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "scan", secret, open, "--no-database", "--yara", "none"]
        process.currentDirectoryURL = dir
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 4, "\(output)\(error)")
        #expect(error.contains(secret) && error.contains("permission denied"), "\(error)")
        #expect(output.contains("1 file(s)") == false && output.contains("2 file(s): 0 malicious, 0 suspicious, 1 clean, 1 not scanned"), "\(output)")
    }

    /// One number from an SQLite database, through the sqlite3 shell when it is installed, else Python.
    static func sqliteCount(_ path: String, _ query: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])", path, query]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
