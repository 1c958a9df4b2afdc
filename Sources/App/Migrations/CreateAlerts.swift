import Fluent
import SQLKit

/// Creates `alerts`: what the live detection engine raised, one row per alert (episode), updated
/// as it extends and when it closes.
struct CreateAlerts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AlertStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("rule", .string, .required)
            .field("title", .string, .required)
            .field("level", .string, .required)
            .field("group_key", .string, .required)
            .field("first_ts", .int64, .required)
            .field("last_ts", .int64, .required)
            .field("event_count", .int, .required)
            .field("events", .string, .required)
            .field("status", .string, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "alerts_last_ts_idx").on(AlertStore.table).column("last_ts").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AlertStore.table).delete()
    }
}
