import Fluent
import SQLKit

/// Creates `events`: one row per line of the activity log, indexed for the questions an
/// investigation asks (what happened when, from this IP, by this user, of this kind).
///
/// `ts` is microseconds since the Unix epoch (UTC), the same instant as the line's `timestamp`,
/// so range queries are exact and identical on SQLite and PostgreSQL.
struct CreateEvents: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(EventStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("ts", .int64, .required)
            .field("ip_address", .string, .required)
            .field("username", .string, .required)
            .field("action", .string, .required)
            .field("user_id", .string)
            .field("session_id", .string)
            .field("method", .string)
            .field("path", .string)
            .field("status", .int)
            .field("user_agent", .string)
            .field("duration_ms", .double)
            .field("attempted_username", .string)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        for column in ["ts", "ip_address", "username", "action"] {
            try await sql.create(index: "events_\(column)_idx").on(EventStore.table).column(column).run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(EventStore.table).delete()
    }
}
