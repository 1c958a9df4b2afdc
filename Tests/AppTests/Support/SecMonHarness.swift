@testable import App
import AsyncHTTPClient
import Fluent
import Foundation
import NIOCore
import SecurityModel
import ServiceLifecycle
import SQLKit
import Testing
import Vapor

/// A real SecMon server on a loopback port, on a fresh database and activity log, for one test.
final class SecMonHarness: @unchecked Sendable {
    static let adminPassword = "first-admin-password"
    static let changedAdminPassword = "changed-admin-password"

    let app: Application
    let config: SecMonConfig
    let baseURL: String
    let directory: URL
    let http: HTTPClient

    private init(app: Application, config: SecMonConfig, baseURL: String, directory: URL, http: HTTPClient) {
        self.app = app
        self.config = config
        self.baseURL = baseURL
        self.directory = directory
        self.http = http
    }

    /// Runs `body` against a started server; shuts it down afterwards, whatever happens.
    static func with(
        _ database: TestDatabase, directory: URL? = nil, databaseConfig: SecMonConfig.Database? = nil,
        adjust: (inout SecMonConfig) -> Void = { _ in },
        _ body: (SecMonHarness) async throws -> Void
    ) async throws {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("secmon-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = SecMonConfig()
        config.hostname = "127.0.0.1"
        config.port = 0
        config.dataDirectory = dir.path
        config.logPath = dir.appendingPathComponent("logs/app.log").path
        config.hostLogPath = dir.appendingPathComponent("logs/host.log").path
        if let databaseConfig { config.database = databaseConfig } else { config.database = try await database.makeFresh(in: dir) }
        config.bcryptCost = 4
        config.initialAdminPassword = adminPassword
        config.eventBatchDelay = 0.02
        // The bundled rule pack of this checkout, run live; a fast clock tick for prompt alerts.
        config.rulesPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rules").path
        config.detectionTickSeconds = 0.1
        adjust(&config)
        let app = try await Application.make(.testing)
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        // A request waiting for one of the pool's 8 connections fails after the connect timeout
        // (10 s by default): on a loaded two-core machine, the concurrency test's 64 workers
        // waited longer. A minute's patience; the pool's size, and so what the server sees at
        // once, stays as it was.
        clientConfiguration.timeout = .init(connect: .seconds(60), read: .seconds(60))
        if config.tlsCertificatePath != nil {
            // The test certificate is self-signed.
            clientConfiguration.tlsConfiguration = .makeClientConfiguration()
            clientConfiguration.tlsConfiguration?.certificateVerification = .none
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        var failure: (any Error)?
        var running: Task<Void, any Error>?
        var group: ServiceGroup?
        do {
            try await configure(app, config)
            // The pipeline and writers run as in `secmon serve`; the HTTP server is started here
            // on a free port instead of by the group.
            let services = app.secmon.runtime.makeGroup()
            group = services
            running = Task { try await services.run() }
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = app.http.server.shared.localAddress?.port ?? 0
            let scheme = config.tlsCertificatePath == nil ? "http" : "https"
            let harness = SecMonHarness(app: app, config: config, baseURL: "\(scheme)://127.0.0.1:\(port)", directory: dir, http: http)
            try await body(harness)
        } catch {
            failure = error
        }
        if group != nil { app.secmon.live.closeAll() }
        await app.server.shutdown()
        await group?.triggerGracefulShutdown()
        if let running {
            do { try await running.value } catch { if failure == nil { failure = error } }
        }
        try? await http.shutdown()
        try? await app.asyncShutdown()
        if directory == nil { try? FileManager.default.removeItem(at: dir) }
        if let failure { throw failure }
    }

    /// A new cookie jar on this server.
    func client() -> TestClient { TestClient(http: http, baseURL: baseURL) }

    /// The port the server listens on.
    var port: Int { Int(baseURL.split(separator: ":").last ?? "0") ?? 0 }

    /// Waits until every recorded event is in the log file and the database, and every alert it
    /// raised is stored.
    func flush() async throws {
        try await app.secmon.recorder.flush()
        try await app.secmon.runtime.flush()
    }

    /// The activity log's lines, after a flush.
    func logLines() async throws -> [String] {
        try await flush()
        let text = try String(contentsOfFile: config.logPath, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The activity log's lines as JSON objects, after a flush.
    func logObjects() async throws -> [[String: Any]] {
        try await logLines().map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// The `events` rows, newest first.
    func eventRows(limit: Int = 1000) async throws -> [ActivityEvent] {
        try await flush()
        return try await EventStore(database: app.db as! any SQLDatabase).recent(.init(limit: limit))
    }

    /// Creates a user directly (password already changed).
    func createUser(_ name: String, role: Role, password: String = "user-password-123") async throws {
        _ = try await app.secmon.users(on: app.db).create(username: name, role: role, password: password, mustChangePassword: false)
    }

    /// A client logged in as a new user with `role` (for admin: the first admin, password changed).
    func loggedIn(as role: Role) async throws -> TestClient {
        let client = client()
        if role == .admin {
            try await client.login("admin", SecMonHarness.adminPassword)
            let response = try await client.postForm("/account/password", [
                "current_password": SecMonHarness.adminPassword,
                "new_password": SecMonHarness.changedAdminPassword,
                "confirm_password": SecMonHarness.changedAdminPassword,
            ])
            #expect(response.status == .seeOther, "password change failed: \(response.body)")
            return client
        }
        let name = "\(role.rawValue)-\(UUID().uuidString.prefix(6))".lowercased()
        try await createUser(name, role: role)
        let response = try await client.login(name, "user-password-123")
        #expect(response.status == .seeOther)
        return client
    }
}
