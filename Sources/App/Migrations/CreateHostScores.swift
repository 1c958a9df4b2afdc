import Fluent

/// The host's threat score over time: each computation's total, level and factors (JSON, with
/// every contribution), kept as long as host metrics.
struct CreateHostScores: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(HostScoreStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("ts", .int64, .required)
            .field("total", .double, .required)
            .field("level", .string, .required)
            .field("detail", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(HostScoreStore.table).delete()
    }
}
