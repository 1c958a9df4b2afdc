import Fluent

/// What host response never touches, as administrators keep it in the console: process names or
/// executables never terminated, paths never quarantined (one row).
struct CreateHostResponseSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(HostResponseSettingsStore.table)
            .field("id", .int, .identifier(auto: false))
            .field("processes", .string, .required)
            .field("paths", .string, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(HostResponseSettingsStore.table).delete()
    }
}
