@testable import App
import Foundation
import Testing
import Vapor

@Suite("Start-up", .timeLimit(.minutes(10)))
struct StartupTests {
    @Test("an unusable log directory is reported with what to do")
    func badLogDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-start-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("logs")
        try Data("not a directory".utf8).write(to: blocker)
        var config = SecMonConfig()
        config.database = .sqlite(path: dir.appendingPathComponent("db.sqlite").path)
        config.logPath = blocker.appendingPathComponent("app.log").path
        config.bcryptCost = 4
        let app = try await Application.make(.testing)
        await #expect(throws: StartupError.self) { try await configure(app, config) }
        do {
            try await configure(app, config)
        } catch let error as StartupError {
            #expect(error.message.contains("--log-path"))
            #expect(error.message.contains(blocker.path))
        }
        try await app.asyncShutdown()
    }

    @Test("an unreachable PostgreSQL is reported with what to do")
    func unreachableDatabase() async throws {
        var config = SecMonConfig()
        config.database = .postgres(url: "postgres://secmon:x@127.0.0.1:1/secmon")
        config.logPath = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(UUID().uuidString)/app.log").path
        let app = try await Application.make(.testing)
        do {
            try await configure(app, config)
            Issue.record("configure should have failed")
        } catch let error as StartupError {
            #expect(error.message.contains("DATABASE_URL"))
        }
        try await app.asyncShutdown()
    }

    @Test("the first start creates admin with the given password; a second start creates nothing", arguments: TestDatabase.all)
    func adminBootstrap(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.initialAdminPassword = nil }) { h in
            let users = try await h.app.secmon.users(on: h.app.db).all()
            #expect(users.map(\.username) == ["admin"])
            #expect(users.first?.mustChangePassword == true)
            #expect(users.first?.role == .admin)
            // No fixed default password.
            for guess in ["admin", "admin123", "password", "secmon"] {
                #expect(try await h.client().login("admin", guess).status == .unauthorized)
            }
            let outcome = try await AdminBootstrap.run(users: h.app.secmon.users(on: h.app.db), initialPassword: nil)
            #expect(outcome == .existingUsers)
        }
    }
}
