import Fluent
import SQLKit

/// Creates `api_tokens` (scripts' credentials: a name, a role, an expiry; the SHA-256 of the
/// token, never the token) and `server_secrets` (keys SecMon makes once and every node shares,
/// such as the one that signs pagination cursors).
struct CreateAPITokens: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(APITokenStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("role", .string, .required)
            .field("digest", .string, .required)
            .field("prefix", .string, .required)
            .field("created_by", .string, .required)
            .field("created_ts", .int64, .required)
            .field("expires_ts", .int64, .required)
            .field("revoked_ts", .int64)
            .field("revoked_by", .string)
            .field("last_used_ts", .int64)
            .field("last_used_ip", .string)
            .unique(on: "digest")
            .unique(on: "name")
            .create()
        try await database.schema("server_secrets")
            .field("name", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("server_secrets").delete()
        try await database.schema(APITokenStore.table).delete()
    }
}
