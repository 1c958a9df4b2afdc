import Fluent

/// The security tools' settings (one row): the targets the port check may reach besides
/// loopback, and the domains URL analysis watches for look-alikes.
struct CreateToolSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ToolSettingsStore.table)
            .field("id", .int, .identifier(auto: false))
            .field("targets", .string, .required)
            .field("watched_domains", .string, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ToolSettingsStore.table).delete()
    }
}
