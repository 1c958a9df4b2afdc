import Fluent

/// The newest link of each log chain (`logs/app.log`, `logs/host.log`): `secmon verify-log` and the
/// audit page check that the file still holds it, so a log whose end was cut off, or that was
/// replaced, shows.
struct CreateLogAnchors: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(LogAnchorStore.table)
            .field("chain_id", .string, .identifier(auto: false))
            .field("path", .string, .required)
            .field("seq", .int64, .required)
            .field("hash", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LogAnchorStore.table).delete()
    }
}
