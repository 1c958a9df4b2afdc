import App
import Fluent
import FluentPostgresDriver
import Foundation
import SQLKit
import Testing
import Vapor

/// The databases every database test runs against: SQLite always, PostgreSQL when the test
/// script has started one (`SECMON_TEST_POSTGRES_URL`). With `SECMON_TEST_REQUIRE_ALL=1` (as the
/// README's test command sets) a missing PostgreSQL fails the tests instead of skipping it.
enum TestDatabase: String, CustomStringConvertible, Sendable, CaseIterable {
    case sqlite, postgres

    static var all: [TestDatabase] {
        let env = ProcessInfo.processInfo.environment
        if env["SECMON_TEST_POSTGRES_URL"] != nil || env["SECMON_TEST_REQUIRE_ALL"] == "1" { return [.sqlite, .postgres] }
        return [.sqlite]
    }

    var description: String { rawValue }

    /// A fresh, empty database of this kind for one test.
    func makeFresh(in directory: URL) async throws -> SecMonConfig.Database {
        switch self {
        case .sqlite:
            return .sqlite(path: directory.appendingPathComponent("secmon.sqlite").path)
        case .postgres:
            guard let base = ProcessInfo.processInfo.environment["SECMON_TEST_POSTGRES_URL"] else {
                Issue.record("SECMON_TEST_REQUIRE_ALL=1 but SECMON_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh")
                throw CancellationError()
            }
            let name = "secmon_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            let app = try await Application.make(.testing)
            do {
                app.databases.use(try .postgres(url: base), as: .psql)
                try await (app.db as! any SQLDatabase).raw("CREATE DATABASE \(unsafeRaw: name)").run()
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
            try await app.asyncShutdown()
            var components = URLComponents(string: base)!
            components.path = "/" + name
            return .postgres(url: components.string!)
        }
    }
}
