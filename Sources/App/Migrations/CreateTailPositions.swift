import Fluent

/// Where each followed log file was read to (its device, inode, byte offset and line), so that a
/// restart goes on from there.
struct CreateTailPositions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(TailPositionStore.table)
            .field("path", .string, .identifier(auto: false))
            .field("device", .int64, .required)
            .field("inode", .int64, .required)
            .field("byte_offset", .int64, .required)
            .field("line", .int64, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(TailPositionStore.table).delete()
    }
}
