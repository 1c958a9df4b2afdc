import Fluent

/// Keys other hosts send their log lines with (`POST /ingest`): each bound to a source name and a
/// format; only the key's SHA-256 is kept.
struct CreateIngestKeys: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(IngestKeyStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("format", .string, .required)
            .field("digest", .string, .required)
            .field("prefix", .string, .required)
            .field("created_by", .string, .required)
            .field("created_ts", .int64, .required)
            .field("revoked_by", .string)
            .field("revoked_ts", .int64)
            .unique(on: "digest")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(IngestKeyStore.table).delete()
    }
}
