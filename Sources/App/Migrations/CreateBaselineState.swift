import Fluent

/// Creates `baseline_state`: what the baseline rules learned, kept across restarts.
struct CreateBaselineState: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SQLBaselineStateStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("state", .string, .required)
            .field("saved_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SQLBaselineStateStore.table).delete()
    }
}
