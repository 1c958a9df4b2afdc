import Fluent
import SQLKit

/// Creates `response_actions`: what active response did (a block of a source address or network,
/// and later rate limits, locks and watchlist entries): why (rule, alert, incident, reason), by
/// whom, until when, and whether and by whom it was undone.
struct CreateResponseActions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ResponseStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("target", .string, .required)
            .field("reason", .string, .required)
            .field("rule", .string)
            .field("alert_id", .string)
            .field("incident_id", .string)
            .field("actor", .string, .required)
            .field("created_ts", .int64, .required)
            .field("expires_ts", .int64)
            .field("undone_ts", .int64)
            .field("undone_by", .string)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "response_actions_kind_idx").on(ResponseStore.table).column("kind").column("undone_ts").run()
        try await sql.create(index: "response_actions_incident_idx").on(ResponseStore.table).column("incident_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ResponseStore.table).delete()
    }
}
