import EventPipeline
import DetectionEngine
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Leaf
import LeafKit
import NIOSSL
import SecurityModel
import SQLKit
import Vapor

/// The single wiring function, used by `secmon serve`, `secmon user`, `secmon migrate` and the tests.
///
/// Opens (and migrates) the database, opens the activity log, creates the first administrator if
/// there are no users, and registers middleware and routes. Problems a person can fix (a
/// directory that cannot be created, an unreachable database) are thrown as `StartupError`.
/// - Returns: what happened to the first administrator account (for the console banner).
@discardableResult
public func configure(_ app: Application, _ config: SecMonConfig) async throws -> String? {
    try configureDatabase(app, config)
    do {
        try await app.autoMigrate()
    } catch {
        throw StartupError(databaseProblem(config, error))
    }
    if case .sqlite = config.database, let sql = app.db as? any SQLDatabase {
        // WAL lets readers (pages) proceed while the event writer inserts.
        try await sql.raw("PRAGMA journal_mode=WAL").run()
        try await sql.raw("PRAGMA synchronous=NORMAL").run()
    }

    // SQLite's statements (mostly the batched event inserts) and blocking file I/O run on Vapor's
    // thread pool. Below the event loops' priority they yield the CPU to requests under load: the
    // log file already holds every event, the rows may lag a little. Measured with 10 s wrk runs of
    // GET /api/status, twice each way: p99 11.5 / 10.5 ms with it, 13.1 / 11.9 ms without.
    ThreadPriority.lower(app.threadPool, threads: app.threadPool.numberOfThreads, nice: 10)
    // Rules first: a startup that fails on them has not opened the log yet (nothing to close).
    let detection = try loadLiveDetection(app, config)
    let logFile = try openActivityLog(config)
    let hasher = PasswordHasher(cost: config.bcryptCost, threads: config.passwordHashThreads, queueLimit: config.passwordQueueLimit)
    let sessions = SessionStore(
        database: { app.db }, idleSeconds: config.sessionIdleSeconds, maxSeconds: config.sessionMaxSeconds,
        cacheSeconds: config.sessionCacheSeconds
    )
    let rows = BatchingWriter<ActivityEvent>(
        maxBatch: config.eventBatchSize, maxDelay: config.eventBatchDelay, logger: app.logger
    ) { batch in
        guard let sql = app.db as? any SQLDatabase else { return }
        try await EventStore(database: sql).insert(batch)
    }
    rows.start()
    let services = SecMonServices(
        config: config, hasher: hasher, sessions: sessions,
        recorder: ActivityRecorder(logFile: logFile, rows: rows, detection: detection, logger: app.logger)
    )
    app.secmon = services
    // Expired sessions are refused on use; this only keeps the table small.
    let purge = Task {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(600))
            if Task.isCancelled { break }
            do { _ = try await sessions.purgeExpired() } catch {
                app.logger.warning("session purge failed", metadata: ["error": "\(error)"])
            }
        }
    }
    // The live engine's clock moves on without events: buffered events are released and quiet
    // alerts close within about a second.
    let ticker = Task {
        guard let detection else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(config.detectionTickSeconds))
            detection.advance(to: Timestamp(secondsSince1970: Date().timeIntervalSince1970))
        }
    }
    app.lifecycle.use(ShutdownFlush(services: services, purge: purge, ticker: ticker))

    let outcome = try await AdminBootstrap.run(users: services.users(on: app.db), initialPassword: config.initialAdminPassword)

    try configureHTTP(app, config)
    app.middleware = Middlewares()
    app.middleware.use(SecMonMiddleware(
        authenticator: SessionAuthenticator(sessions: sessions), recorder: services.recorder, addresses: services.addresses
    ))
    app.middleware.use(StaticFilesMiddleware(publicDirectory: app.directory.publicDirectory))
    try routes(app)
    return AdminBootstrap.banner(outcome, loginURL: config.loginURL)
}

/// Loads the rules for live detection. An explicitly named rule path that is missing or has errors
/// stops startup; without one, the bundled pack is used if it can be found.
func loadLiveDetection(_ app: Application, _ config: SecMonConfig) throws -> LiveDetection? {
    guard config.liveDetection else { return nil }
    let path: String
    do {
        path = try RulePackLocator.locate(config.rulesPath)
    } catch {
        app.logger.warning("live detection is off: \(error)")
        return nil
    }
    let result = RuleDirectory.load(path)
    let errors = result.errors
    guard errors.isEmpty else {
        throw StartupError("the rules under \(path) have \(errors.count) error(s):\n" + errors.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            + "\nFix them ('secmon rules validate \(path)' lists them all) or pass another --rules directory (SECMON_RULES).")
    }
    let alertRows = BatchingWriter<AlertStore.Row>(maxBatch: 100, maxDelay: 0.1, logger: app.logger) { batch in
        guard let sql = app.db as? any SQLDatabase else { return }
        try await AlertStore(database: sql).upsert(batch)
    }
    alertRows.start()
    app.logger.notice("live detection: \(result.ruleSet.count) rules from \(path)")
    return LiveDetection(rules: result.ruleSet, latenessSeconds: config.detectionLatenessSeconds, rows: alertRows)
}

/// Database only: for `secmon user` and `secmon migrate`, which need no web server.
public func configureDatabaseOnly(_ app: Application, _ config: SecMonConfig, migrate: Bool = true) async throws {
    try configureDatabase(app, config)
    guard migrate else { return }
    do { try await app.autoMigrate() } catch { throw StartupError(databaseProblem(config, error)) }
}

func configureDatabase(_ app: Application, _ config: SecMonConfig) throws {
    app.migrations.add(CreateUsers(), CreateSessions(), CreateEvents(), CreateAlerts())
    switch config.database {
    case .sqliteMemory:
        app.databases.use(.sqlite(.memory), as: .sqlite)
    case .sqlite(let path):
        let directory = (path as NSString).deletingLastPathComponent
        try ensureDirectory(directory.isEmpty ? "." : directory, purpose: "the database", option: "--database-url sqlite:PATH or --data-dir (SECMON_DATA_DIR)")
        app.databases.use(.sqlite(.file(path)), as: .sqlite)
    case .postgres(let url):
        do {
            var configuration = try SQLPostgresConfiguration(url: url)
            configuration.searchPath = nil
            app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 4), as: .psql)
        } catch {
            throw StartupError("DATABASE_URL is not a usable PostgreSQL URL (\(error)). Use postgres://USER:PASSWORD@HOST:PORT/DATABASE.")
        }
    }
}

func databaseProblem(_ config: SecMonConfig, _ error: any Error) -> String {
    switch config.database {
    case .postgres:
        return "cannot prepare the PostgreSQL database: \(String(reflecting: error)). Check that the server is running, that DATABASE_URL names it, and that the user may create tables."
    case .sqlite(let path):
        return "cannot prepare the SQLite database at '\(path)': \(String(reflecting: error)). Check that the file and its directory are writable, or choose another with --data-dir."
    case .sqliteMemory:
        return "cannot prepare the in-memory database: \(String(reflecting: error))"
    }
}

/// Creates `path` if needed and checks that it is a writable directory.
func ensureDirectory(_ path: String, purpose: String, option: String) throws {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw StartupError("'\(path)' should be a directory for \(purpose) but is a file. Remove it or choose another path with \(option).")
        }
    } else {
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            let reason = error.localizedDescription.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
            throw StartupError("cannot create the directory '\(path)' for \(purpose): \(reason). Create it yourself, or choose another path with \(option).")
        }
    }
    guard manager.isWritableFile(atPath: path) else {
        throw StartupError("the directory '\(path)' for \(purpose) is not writable by this user. Fix its permissions, or choose another path with \(option).")
    }
}

func openActivityLog(_ config: SecMonConfig) throws -> AppendOnlyLogFile {
    let directory = (config.logPath as NSString).deletingLastPathComponent
    try ensureDirectory(directory.isEmpty ? "." : directory, purpose: "the activity log", option: "--log-path (SECMON_LOG_PATH)")
    do {
        return try AppendOnlyLogFile(path: config.logPath, policy: config.flushPolicy)
    } catch let error as PipelineError {
        throw StartupError(error.message)
    }
}

func configureHTTP(_ app: Application, _ config: SecMonConfig) throws {
    app.http.server.configuration.hostname = config.hostname
    app.http.server.configuration.port = config.port
    app.http.server.configuration.serverName = nil
    app.routes.defaultMaxBodySize = ByteCount(integerLiteral: config.maxBodyBytes)
    if let cert = config.tlsCertificatePath, let key = config.tlsKeyPath {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            app.http.server.configuration.tlsConfiguration = .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
        } catch {
            throw StartupError("cannot load the TLS certificate '\(cert)' or key '\(key)': \(error). Give PEM files readable by this user.")
        }
    }
    let resources = SecMonResources.directory
    app.directory.viewsDirectory = resources + "Views/"
    app.directory.publicDirectory = resources + "Public/"
    app.views.use(.leaf)
    // The resource bundle lives under `.build/`, so the default "visible files only" limit must go;
    // the sandbox limit (nothing outside the views directory) stays.
    app.leaf.sources = .singleSource(NIOLeafFiles(
        fileio: app.fileio, limits: [.toSandbox, .requireExtensions],
        sandboxDirectory: app.directory.viewsDirectory, viewDirectory: app.directory.viewsDirectory
    ))
    app.leaf.cache.isEnabled = app.environment.isRelease
}

/// Flushes the activity log and event rows, and stops the hashing threads, when the server stops.
struct ShutdownFlush: LifecycleHandler {
    let services: SecMonServices
    let purge: Task<Void, Never>
    let ticker: Task<Void, Never>

    func shutdownAsync(_ application: Application) async {
        purge.cancel()
        ticker.cancel()
        await services.recorder.shutdown()
        await services.hasher.shutdown()
    }
}
