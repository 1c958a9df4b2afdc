import Fluent
import SQLKit

/// Active response beyond blocks: `response_actions` gains a dry-run flag, a rate (rate limits)
/// and the time of the last edit; `response_policies` holds each rule's automatic response; and
/// `alerts` gains a note saying why an alert's level was raised (a watchlisted address or user).
struct ExtendResponse: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ResponseStore.table).field("dry_run", .bool, .required, .sql(.default(false))).update()
        try await database.schema(ResponseStore.table).field("rate", .int64).update()
        try await database.schema(ResponseStore.table).field("updated_ts", .int64).update()
        try await database.schema(AlertStore.table).field("note", .string, .required, .sql(.default(""))).update()
        try await database.schema(ResponsePolicyStore.table)
            .field("rule", .string, .identifier(auto: false))
            .field("actions", .string, .required)
            .field("minutes", .int64, .required)
            .field("escalation", .int64, .required)
            .field("max_minutes", .int64, .required)
            .field("rate", .int64, .required)
            .field("dry_run", .bool, .required)
            .field("enabled", .bool, .required)
            .field("version", .int64, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "response_actions_target_idx").on(ResponseStore.table).column("target").column("kind").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ResponsePolicyStore.table).delete()
        try await database.schema(AlertStore.table).deleteField("note").update()
        try await database.schema(ResponseStore.table).deleteField("dry_run").deleteField("rate").deleteField("updated_ts").update()
    }
}
