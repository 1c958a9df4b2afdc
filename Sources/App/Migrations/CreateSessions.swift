import Fluent
import SQLKit

/// Creates `sessions`, indexed by user (to end all of a user's sessions at once) and expiry (to purge).
struct CreateSessions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SessionRecord.schema)
            .field("id", .string, .identifier(auto: false))
            .field("user_id", .uuid, .required, .references(UserRecord.schema, "id", onDelete: .cascade))
            .field("csrf_token", .string, .required)
            .field("created_at", .int64, .required)
            .field("last_seen_at", .int64, .required)
            .field("expires_at", .int64, .required)
            .field("ip_address", .string, .required)
            .field("user_agent", .string, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "sessions_user_id_idx").on(SessionRecord.schema).column("user_id").run()
        try await sql.create(index: "sessions_expires_at_idx").on(SessionRecord.schema).column("expires_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SessionRecord.schema).delete()
    }
}
