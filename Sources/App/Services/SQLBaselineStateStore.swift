import EventPipeline
import DetectionEngine
import Foundation
import SecurityModel
import SQLKit

/// The `baseline_state` table: one row holding what the baseline rules have learned (a JSON
/// ``BaselineSnapshot``), written every few minutes and at shutdown, read at start.
struct SQLBaselineStateStore: BaselineStateStore {
    static let table = "baseline_state"
    /// The row's key (one engine per server).
    static let row = "engine"

    let database: @Sendable () -> (any SQLDatabase)?

    func load() async throws -> BaselineSnapshot? {
        guard let sql = database(),
              let found = try await sql.select().column("state").from(Self.table).where("id", .equal, SQLBind(Self.row)).first() else { return nil }
        let text = try found.decode(column: "state", as: String.self)
        return try JSONDecoder().decode(BaselineSnapshot.self, from: Data(text.utf8))
    }

    func save(_ snapshot: BaselineSnapshot) async throws {
        guard let sql = database() else { return }
        let text = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        let now = Timestamp.now().microseconds
        try await sql.raw("""
            INSERT INTO baseline_state (id, state, saved_ts) VALUES (\(bind: Self.row), \(bind: text), \(bind: now))
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, saved_ts = excluded.saved_ts
            """).run()
    }
}
