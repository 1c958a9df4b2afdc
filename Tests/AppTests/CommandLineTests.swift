import Foundation
import Testing

/// The `secmon` executable itself, as an admin would use it from a shell.
@Suite("Command line", .timeLimit(.minutes(10)))
struct CommandLineTests {
    /// `secmon`, built next to the test bundle by `swift build --build-tests`.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("secmon")
    }

    struct Result: Sendable {
        var status: Int32
        var output: String
        var error: String
    }

    /// ``run(_:in:input:env:)`` on a thread of its own. A command that talks to a server in this
    /// test process must not hold one of the few cooperative threads while it waits: with two
    /// cores, two such waits leave the server no thread to answer on until the client times out.
    static func runDetached(_ arguments: [String], in directory: URL, input: String? = nil, env: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try run(arguments, in: directory, input: input, env: env) })
            }
        }
    }

    static func run(_ arguments: [String], in directory: URL, input: String? = nil, env: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(["SECMON_BCRYPT_COST": "4"].merging(env) { $1 }) { $1 }
            .filter { $0.key != "DATABASE_URL" || env["DATABASE_URL"] != nil }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: output, error: error)
    }

    @Test("help reads well for every command")
    func help() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build secmon first (scripts/test.sh does)")
        let dir = FileManager.default.temporaryDirectory
        let top = try Self.run(["--help"], in: dir)
        #expect(top.status == 0)
        for sub in ["serve", "user", "migrate"] { #expect(top.output.contains(sub)) }
        let serve = try Self.run(["serve", "--help"], in: dir)
        for option in ["--hostname", "--port", "--data-dir", "--log-path", "--database-url", "SECMON_PORT", "DATABASE_URL"] {
            #expect(serve.output.contains(option), "serve --help lacks \(option)")
        }
        for sub in ["add", "passwd", "list", "lock", "unlock"] {
            #expect(try Self.run(["user", sub, "--help"], in: dir).status == 0)
        }
    }

    @Test("user add, passwd, lock, unlock and list work on the database from any directory", arguments: TestDatabase.all)
    func userCommands(db: TestDatabase) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build secmon first (scripts/test.sh does)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var env: [String: String] = [:]
        if case .postgres(let url) = try await db.makeFresh(in: dir) { env["DATABASE_URL"] = url }

        #expect(try Self.run(["migrate"], in: dir, env: env).status == 0)
        let add = try Self.run(["user", "add", "Hanna", "--role", "analyst"], in: dir, env: env)
        #expect(add.status == 0, "\(add.error)")
        #expect(add.output.contains("one-time password"))
        let piped = try Self.run(["user", "add", "ivan", "--password-stdin"], in: dir, input: "ivans-password-123\n", env: env)
        #expect(piped.status == 0, "\(piped.error)")
        let duplicate = try Self.run(["user", "add", "ivan"], in: dir, env: env)
        #expect(duplicate.status == 1)
        #expect(duplicate.error.contains("already exists"))
        #expect(try Self.run(["user", "lock", "hanna"], in: dir, env: env).status == 0)
        let list = try Self.run(["user", "list"], in: dir, env: env)
        #expect(list.output.contains("hanna") && list.output.contains("locked"))
        #expect(list.output.contains("ivan") && list.output.contains("active"))
        #expect(try Self.run(["user", "unlock", "hanna"], in: dir, env: env).status == 0)
        let passwd = try Self.run(["user", "passwd", "ivan"], in: dir, env: env)
        #expect(passwd.status == 0 && passwd.output.contains("one-time password"))
        let missing = try Self.run(["user", "passwd", "nobody"], in: dir, env: env)
        #expect(missing.status == 1 && missing.error.contains("no user called 'nobody'"))
        let badRole = try Self.run(["user", "add", "x", "--role", "root"], in: dir, env: env)
        #expect(badRole.status == 1 && badRole.error.contains("viewer, analyst or admin"))
        if db == .sqlite {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/secmon.sqlite").path))
        }
    }

    @Test("a bad start-up setting is one clear line, not a crash trace")
    func startupErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("file".utf8).write(to: dir.appendingPathComponent("logs"))
        let result = try Self.run(["serve", "--port", "0"], in: dir)
        #expect(result.status == 1)
        #expect(result.error.contains("Error: '") && result.error.contains("--log-path"), "\(result.error)")
        #expect(!result.error.contains("Fatal error"))
        let badURL = try Self.run(["serve", "--database-url", "mysql://root:s3cret@db/x"], in: dir)
        #expect(badURL.status == 1 && badURL.error.contains("postgres://"))
        #expect(badURL.error.contains("'mysql'"))
        // A password never reaches the screen, however broken the URL.
        for url in ["mysql://root:s3cret@db/x", "postgres://secmon:s3cret@[::1/x", "postgres://secmon:s3cret@db:notaport/x", "postgres://secmon:s3cret@127.0.0.1:1/x"] {
            let result = try Self.run(["migrate", "--database-url", url], in: dir)
            #expect(result.status == 1)
            #expect(!result.error.contains("s3cret") && !result.output.contains("s3cret"), "\(result.error)")
        }
    }
}
