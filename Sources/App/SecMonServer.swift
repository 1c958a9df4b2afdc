import Fluent
import Foundation
import HostSensors
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization
import SQLKit
import Vapor

/// Entry points for the `secmon` command, which does not import Vapor itself (its `Option` and
/// `Flag` clash with swift-argument-parser's).
public enum SecMonServer {
    /// The host sensors' line of the start-up message: how process starts are seen, how often the
    /// rest is read, and where the events go.
    static func describeHostSensors(_ config: SecMonConfig) -> String {
        guard let host = config.hostSensors else { return "off" }
        let seconds = Double(host.networkInterval.components.seconds) + Double(host.networkInterval.components.attoseconds) / 1e18
        let (mode, reason) = ProcessWatcher.availableMode(useConnector: host.useConnector)
        let starts = mode == .connector ? "process starts through the process connector"
            : "process starts by polling /proc (\(reason ?? "the connector is unavailable"); short-lived processes are missed)"
        return "\(starts), readings every \(seconds.formatted()) s, events in \(absolute(config.hostLogPath))"
    }

    /// Starts the web server and blocks until it is stopped (SIGINT or SIGTERM), then flushes the log.
    public static func serve(_ config: SecMonConfig, logLevel: Logger.Level) async throws {
        let app = try await makeApplication(logLevel: logLevel)
        do {
            let banner = try await configure(app, config)
            if let banner { writeStandardOutput(banner) }
            writeStandardOutput("""
                SecMon \(SecMonVersion.current) is starting on \(config.hostname):\(config.port)
                  log in at:     \(config.loginURL)
                  activity log:  \(absolute(config.logPath)) (flush: \(config.flushPolicy))
                  database:      \(describe(config.database))
                  host sensors:  \(describeHostSensors(config))

                """)
            // One service group runs the pipeline and the HTTP server, and on SIGINT or SIGTERM
            // stops them in reverse order: requests first, then detection, then the writers.
            let group = app.secmon.runtime.makeGroup(last: [HTTPServerService(app: app)], signals: [.sigterm, .sigint])
            do {
                try await group.run()
            } catch {
                throw StartupError("cannot serve on \(config.hostname):\(config.port): \(error). If another program uses the port, choose another with --port (SECMON_PORT).")
            }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// Creates or updates the database tables, and says which database it used.
    public static func migrate(_ config: SecMonConfig, logLevel: Logger.Level) async throws {
        let app = try await makeApplication(logLevel: logLevel)
        do {
            try await configureDatabaseOnly(app, config)
            writeStandardOutput("Database is up to date: \(describe(config.database))\n")
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// Runs `body` with account management on the configured database, then shuts down cleanly.
    public static func withAccounts<T: Sendable>(
        _ config: SecMonConfig, logLevel: Logger.Level, _ body: @Sendable (AccountAdmin) async throws -> T
    ) async throws -> T {
        let app = try await makeApplication(logLevel: logLevel)
        let hasher = PasswordHasher(cost: config.bcryptCost, threads: 1, queueLimit: 4)
        do {
            try await configureDatabaseOnly(app, config)
            let sessions = SessionStore(database: { app.db }, idleSeconds: config.sessionIdleSeconds,
                                        maxSeconds: config.sessionMaxSeconds, cacheSeconds: 0)
            let auditor = Auditor(database: { app.db as? any SQLDatabase }, logger: app.logger)
            let result = try await body(AccountAdmin(users: UserService(database: app.db, hasher: hasher), sessions: sessions, auditor: auditor))
            await hasher.shutdown()
            try await app.asyncShutdown()
            return result
        } catch {
            await hasher.shutdown()
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Runs `body` with the configured database (migrated), for commands that work without the
    /// server (`secmon fim`, `secmon scan`).
    public static func withDatabase<T: Sendable>(
        _ config: SecMonConfig, logLevel: Logger.Level, _ body: @Sendable (any Database) async throws -> T
    ) async throws -> T {
        let app = try await makeApplication(logLevel: logLevel)
        do {
            try await configureDatabaseOnly(app, config)
            let result = try await body(app.db)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Who acts from the shell: `cli:` and the login name running the command.
    public static var shellActor: AuditTrail.Actor {
        let name = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return AuditTrail.Actor(name: "cli:\(name)", kind: .user, sourceIP: nil)
    }

    static func makeApplication(logLevel: Logger.Level) async throws -> Application {
        bootstrapLogging(level: logLevel)
        let environment = Environment(name: "production", arguments: ["secmon", "serve"])
        return try await Application.make(environment)
    }

    private static let loggingBootstrapped = LockedFlag()

    private static func bootstrapLogging(level: Logger.Level) {
        guard loggingBootstrapped.setOnce() else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func describe(_ database: SecMonConfig.Database) -> String {
        switch database {
        case .sqlite(let path): return "SQLite at \(absolute(path))"
        case .sqliteMemory: return "SQLite in memory"
        case .postgres(let url): return "PostgreSQL at \(redacted(url))"
        }
    }

    /// The URL with its password replaced, for printing.
    static func redacted(_ url: String) -> String { URLRedaction.redacted(url) }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func writeStandardOutput(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Account operations for `secmon user`, with the session ending that goes with them.
public struct AccountAdmin: Sendable {
    let users: UserService
    let sessions: SessionStore
    let auditor: Auditor

    /// Who acts from the shell: `cli:` and the login name running the command.
    var actor: AuditTrail.Actor {
        let name = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return AuditTrail.Actor(name: "cli:\(name)", kind: .user, sourceIP: nil)
    }

    /// One row of `secmon user list`.
    public struct Row: Sendable {
        public var username: String
        public var role: String
        public var state: String
        public var lastLogin: String
    }

    /// Creates a user; returns the password (generated when `password` is nil).
    public func add(_ username: String, role: Role, password: String?) async throws -> String {
        let (user, chosen) = try await users.create(username: username, role: role, password: password, mustChangePassword: password == nil)
        await auditor.record(.init(actor: actor, action: "user.create", target: "user:\(user.username)", after: "role \(role.rawValue)"))
        return chosen
    }

    /// Sets a password; returns it (generated when `password` is nil). Ends the user's sessions.
    public func setPassword(_ username: String, password: String?, mustChange: Bool) async throws -> String {
        let user = try await require(username)
        let chosen = try await users.setPassword(user, to: password, mustChange: mustChange)
        try await sessions.endAll(userID: try user.requireID())
        await auditor.record(.init(actor: actor, action: "user.reset-password", target: "user:\(user.username)", after: "password set from the shell; sessions ended"))
        return chosen
    }

    /// Locks or unlocks; locking ends the user's sessions.
    public func setLocked(_ username: String, _ locked: Bool) async throws {
        let user = try await require(username)
        try await users.setLocked(user, locked)
        if locked { try await sessions.endAll(userID: try user.requireID()) }
        await auditor.record(.init(actor: actor, action: locked ? "user.lock" : "user.unlock", target: "user:\(user.username)", after: locked ? "locked" : "unlocked"))
        // Unlocking lifts a lock by active response too (with its own audit row).
        if !locked {
            let responses = ResponseStore(database: users.database)
            if let lock = try await responses.activeLock(user: user.username) { _ = try await responses.undo(lock.id, by: actor) }
        }
    }

    /// Changes a role.
    public func setRole(_ username: String, _ role: Role) async throws {
        let user = try await require(username)
        let before = user.role.rawValue
        try await users.setRole(user, to: role)
        await auditor.record(.init(actor: actor, action: "user.role", target: "user:\(user.username)", before: before, after: role.rawValue))
    }

    /// Every user.
    public func list() async throws -> [Row] {
        let now = Date()
        return try await users.all().map { user in
            var state = user.locked ? "locked" : user.isLocked(at: now) ? "locked (wrong current passwords)" : "active"
            if user.mustChangePassword { state += ", must change password" }
            let last = user.lastLoginAt.map { Timestamp(secondsSince1970: $0.timeIntervalSince1970).iso8601.prefix(19) + "Z" } ?? "never"
            return Row(username: user.username, role: user.role.rawValue, state: state, lastLogin: String(last))
        }
    }

    private func require(_ username: String) async throws -> UserRecord {
        guard let user = try await users.find(username) else {
            throw UserService.Refusal(message: "there is no user called '\(username)' (see 'secmon user list')")
        }
        return user
    }
}

/// A flag that can be set once, from any thread.
final class LockedFlag: Sendable {
    private let value = Mutex(false)
    /// Sets the flag; returns whether this call was the one that set it.
    func setOnce() -> Bool {
        value.withLock { isSet in
            if isSet { return false }
            isSet = true
            return true
        }
    }
}
