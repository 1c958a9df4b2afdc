import Fluent

/// The threat score's weights as administrators set them in the console (one row).
struct CreateThreatSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ThreatSettingsStore.table)
            .field("id", .int, .identifier(auto: false))
            .field("system", .double, .required)
            .field("process", .double, .required)
            .field("network", .double, .required)
            .field("file_integrity", .double, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ThreatSettingsStore.table).delete()
    }
}
