import App
import ArgumentParser
import Foundation

/// `secmon migrate`: bring the database schema up to date (serve does this too, at start).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or update the database tables.",
        discussion: "'secmon serve' migrates on start; run this to prepare a database ahead of time, for example a shared PostgreSQL."
    )

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var config = SecMonConfig()
        try storage.apply(to: &config, env)
        try await SecMonServer.migrate(config, logLevel: try storage.level(env))
    }
}
