import Fluent
import SQLKit

/// Creates the tables of file integrity monitoring and the file scanner:
/// - `fim_settings`: one row, the watched paths and ignore patterns an administrator keeps;
/// - `fim_baseline`: the accepted state of every watched path (hash, size, mode, owner, mtime,
///   inode, link target);
/// - `fim_changes`: each difference a check found, open until an administrator accepts it;
/// - `file_scans`: the scanner's history, each report whole (JSON) with its verdict.
struct CreateFileTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(FileIntegrityStore.settingsTable)
            .field("id", .int, .identifier(auto: false))
            .field("paths", .string, .required)
            .field("ignore", .string, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
        try await database.schema(FileIntegrityStore.baselineTable)
            .field("path", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("sha256", .string)
            .field("size", .int64, .required)
            .field("mode", .int64, .required)
            .field("uid", .int64, .required)
            .field("gid", .int64, .required)
            .field("mtime_ns", .int64, .required)
            .field("inode", .int64, .required)
            .field("link_target", .string)
            .field("recorded_ts", .int64, .required)
            .field("recorded_by", .string, .required)
            .create()
        try await database.schema(FileIntegrityStore.changesTable)
            .field("id", .string, .identifier(auto: false))
            .field("path", .string, .required)
            .field("kind", .string, .required)
            .field("attributes", .string, .required)
            .field("old_state", .string)
            .field("new_state", .string)
            .field("fingerprint", .string, .required)
            .field("detected_ts", .int64, .required)
            .field("status", .string, .required)
            .field("resolved_by", .string)
            .field("resolved_ts", .int64)
            .create()
        try await database.schema(FileScanStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("ts", .int64, .required)
            .field("name", .string, .required)
            .field("source", .string, .required)
            .field("scanned_by", .string, .required)
            .field("size", .int64, .required)
            .field("sha256", .string, .required)
            .field("file_type", .string, .required)
            .field("verdict", .string, .required)
            .field("summary", .string, .required)
            .field("report", .string, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "fim_changes_status_idx").on(FileIntegrityStore.changesTable).column("status").column("detected_ts").run()
        try await sql.create(index: "fim_changes_path_idx").on(FileIntegrityStore.changesTable).column("path").run()
        try await sql.create(index: "file_scans_ts_idx").on(FileScanStore.table).column("ts").run()
        try await sql.create(index: "file_scans_sha256_idx").on(FileScanStore.table).column("sha256").run()
    }

    func revert(on database: any Database) async throws {
        for table in [FileScanStore.table, FileIntegrityStore.changesTable, FileIntegrityStore.baselineTable, FileIntegrityStore.settingsTable] {
            try await database.schema(table).delete()
        }
    }
}
