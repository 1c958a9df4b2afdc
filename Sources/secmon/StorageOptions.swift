import App
import ArgumentParser
import Foundation
import SecurityModel
import Logging

/// Options shared by every command that touches the database or the activity log.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory for the SQLite database and other state. [env: SECMON_DATA_DIR] (default: ./data)", valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp("Database: sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB. [env: DATABASE_URL] (default: SQLite in the data directory)", valueName: "url"))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp("The activity log (JSON lines). [env: SECMON_LOG_PATH] (default: ./logs/app.log)", valueName: "path"))
    var logPath: String?

    @Option(name: .long, help: ArgumentHelp("Server log level: trace, debug, info, notice, warning, error. [env: SECMON_LOG_LEVEL] (default: notice)", valueName: "level"))
    var logLevel: String?

    /// The level for SecMon's own diagnostics (not the activity log).
    func level(_ env: [String: String]) throws -> Logger.Level {
        let text = logLevel ?? env["SECMON_LOG_LEVEL"] ?? "notice"
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw CommandLineError("unknown log level '\(text)'; use trace, debug, info, notice, warning or error")
        }
        return level
    }

    /// Fills the storage part of `config` from options, then the environment, then defaults.
    func apply(to config: inout SecMonConfig, _ env: [String: String]) throws {
        config.dataDirectory = dataDir ?? env["SECMON_DATA_DIR"] ?? "data"
        config.logPath = logPath ?? env["SECMON_LOG_PATH"] ?? "logs/app.log"
        let url = databaseURL ?? env["DATABASE_URL"]
        switch url {
        case nil, "":
            config.database = .sqlite(path: (config.dataDirectory as NSString).appendingPathComponent("secmon.sqlite"))
        case let url? where url.hasPrefix("postgres://") || url.hasPrefix("postgresql://"):
            config.database = .postgres(url: url)
        case let url? where url.hasPrefix("sqlite:"):
            let path = String(url.dropFirst("sqlite:".count)).replacingOccurrences(of: "//", with: "", options: .anchored)
            config.database = path == ":memory:" ? .sqliteMemory : .sqlite(path: path)
        case let url?:
            throw CommandLineError("unsupported database URL scheme '\(URLRedaction.scheme(url))'; use sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB")
        }
        if let cost = env["SECMON_BCRYPT_COST"] {
            guard let value = Int(cost), (4...31).contains(value) else {
                throw CommandLineError("SECMON_BCRYPT_COST must be a whole number from 4 to 31 (default 12)")
            }
            config.bcryptCost = value
        }
    }
}
