import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SecurityModel
import SQLKit
import Vapor

/// Opens the database (SQLite or PostgreSQL) and, when `migrate` is set, brings its tables up to
/// date with every migration of ``SecMonMigrations``.
func configureDatabase(_ app: Application, _ config: SecMonConfig, migrate: Bool) async throws {
    try registerDatabase(app, config)
    guard migrate else { return }
    do {
        try await app.autoMigrate()
    } catch {
        throw StartupError(databaseProblem(config, error))
    }
    if case .sqlite(let path) = config.database {
        // Readable by this user only (SQLite gives its -wal and -shm files the same mode).
        try? FileManager.default.setAttributes([.posixPermissions: Int16(0o600)], ofItemAtPath: path)
        try await tuneSQLiteConnections(app)
    }
}

/// Settings every SQLite connection needs; the pool keeps one connection per event loop, so each
/// loop's connection is set.
///
/// - WAL lets readers (pages) proceed while a writer writes; `synchronous=NORMAL` then syncs at
///   checkpoints rather than at every commit (a per-connection setting).
/// - `busy_timeout`: a statement that finds the database locked waits, sleeping (1, 2, 5 ms and up),
///   for up to 10 s. SQLiteNIO's own handler retries at once, forever: a writer waiting for an
///   incident's transaction spun a whole core, and on two cores that slowed everything, the
///   transaction it waited for included. bench/pipeline.sh, latency part (a new incident every
///   0.1 s under wrk): event to stored alert p50 23.8 / p99 81.3 ms spinning, 18.3 / 57.1 ms
///   sleeping; 6.7 / 42 and 6.3 / 26 ms once the incident sink also read outside its transaction.
/// - `temp_store=MEMORY` and a 16 MiB page cache (`cache_size`, 2 MiB by default): a large
///   transaction (a file integrity baseline of 100,000 paths) spilled pages to the file before
///   its commit and kept its statement journal in a temporary file.
func tuneSQLiteConnections(_ app: Application) async throws {
    try await (app.db as? any SQLDatabase)?.raw("PRAGMA journal_mode=WAL").run()
    for eventLoop in app.eventLoopGroup.makeIterator() {
        guard let sql = app.databases.database(logger: app.logger, on: eventLoop) as? any SQLDatabase else { continue }
        try await sql.raw("PRAGMA synchronous=NORMAL").run()
        try await sql.raw("PRAGMA busy_timeout=10000").run()
        try await sql.raw("PRAGMA temp_store=MEMORY").run()
        try await sql.raw("PRAGMA cache_size=-16384").run()
    }
}

/// Database only: for `secmon user` and `secmon migrate`, which need no web server.
public func configureDatabaseOnly(_ app: Application, _ config: SecMonConfig, migrate: Bool = true) async throws {
    try await configureDatabase(app, config, migrate: migrate)
}

func registerDatabase(_ app: Application, _ config: SecMonConfig) throws {
    // Set once: replacing the pool would stop the one open connections use (configure may run twice on one app).
    if config.database.isSQLite, app.threadPool === NIOSingletons.posixBlockingThreadPool {
        // SQLite runs every statement on the application's thread pool, and a statement that finds
        // the database locked retries until it is free (SQLiteNIO's busy handler), holding its
        // thread. The shared default pool has one thread per core, which two waiting statements
        // could fill while the transaction they wait for needs a thread to finish. A pool of its
        // own, larger than the connections (one per event loop), always leaves one free.
        app.threadPool = NIOThreadPool(numberOfThreads: max(4, 2 * System.coreCount + 2))
    }
    app.migrations.add(SecMonMigrations.all)
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
            // The parser's error repeats the URL: print only its redacted form.
            throw StartupError("DATABASE_URL '\(URLRedaction.redacted(url))' is not a usable PostgreSQL URL. Use postgres://USER:PASSWORD@HOST:PORT/DATABASE.")
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
///
/// A directory SecMon creates is private to its user (`permissions`, 0700 by default): the database
/// holds password hashes and session digests.
func ensureDirectory(_ path: String, purpose: String, option: String, permissions: Int16 = 0o700) throws {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw StartupError("'\(path)' should be a directory for \(purpose) but is a file. Remove it or choose another path with \(option).")
        }
    } else {
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: permissions])
        } catch {
            let reason = error.localizedDescription.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
            throw StartupError("cannot create the directory '\(path)' for \(purpose): \(reason). Create it yourself, or choose another path with \(option).")
        }
    }
    guard manager.isWritableFile(atPath: path) else {
        throw StartupError("the directory '\(path)' for \(purpose) is not writable by this user. Fix its permissions, or choose another path with \(option).")
    }
}

