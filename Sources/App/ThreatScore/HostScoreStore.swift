import EventPipeline
import Foundation
import SecurityModel
import SQLKit
import ThreatScore

/// The host's threat scores as computed, for the score page's history and its latest breakdown.
public struct HostScoreStore: Sendable {
    public static let table = "host_scores"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One computation.
    public struct Entry: Sendable {
        public var time: Timestamp
        public var score: HostThreatScore
    }

    public func insert(_ score: HostThreatScore, at time: Timestamp) async throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let detail = String(decoding: try encoder.encode(score), as: UTF8.self)
        try await database.raw("""
            INSERT INTO host_scores (id, ts, total, level, detail)
            VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: time.microseconds), \(bind: score.total), \(bind: score.level), \(bind: detail))
            """).run()
    }

    /// The latest computation, if any.
    public func latest() async throws -> Entry? {
        guard let row = try await database.raw("SELECT ts, detail FROM host_scores ORDER BY ts DESC LIMIT 1").first() else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let score = try decoder.decode(HostThreatScore.self, from: Data(try row.decode(column: "detail", as: String.self).utf8))
        return Entry(time: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)), score: score)
    }

    /// (time, total) since `since`, oldest first, at most `limit` points.
    public func history(since: Timestamp, limit: Int = 2000) async throws -> [(time: Timestamp, total: Double)] {
        try await database.raw("SELECT ts, total FROM host_scores WHERE ts >= \(bind: since.microseconds) ORDER BY ts DESC LIMIT \(bind: limit)").all()
            .map { (Timestamp(microseconds: try $0.decode(column: "ts", as: Int64.self)), try $0.decode(column: "total", as: Double.self)) }
            .reversed()
    }

    /// Removes scores older than `before`.
    public func prune(before: Timestamp) async throws {
        try await database.raw("DELETE FROM host_scores WHERE ts < \(bind: before.microseconds)").run()
    }
}
