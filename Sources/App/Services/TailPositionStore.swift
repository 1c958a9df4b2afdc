import EventPipeline
import SecurityModel
import SQLKit

/// The `tail_positions` table: where each followed log file was read to. Device and inode are
/// kept as their bit patterns in signed columns.
public struct TailPositionStore: Sendable {
    public static let table = "tail_positions"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Every saved position.
    public func load() async throws -> [FileTailSource.Position] {
        try await database.raw("SELECT path, device, inode, byte_offset, line FROM tail_positions").all().map { row in
            FileTailSource.Position(path: try row.decode(column: "path", as: String.self),
                                    device: UInt64(bitPattern: try row.decode(column: "device", as: Int64.self)),
                                    inode: UInt64(bitPattern: try row.decode(column: "inode", as: Int64.self)),
                                    offset: try row.decode(column: "byte_offset", as: Int64.self), line: try row.decode(column: "line", as: Int64.self))
        }
    }

    /// Writes `positions` (one upsert each).
    public func save(_ positions: [FileTailSource.Position], at now: Timestamp = .now()) async throws {
        for position in positions {
            try await database.raw("""
                INSERT INTO tail_positions (path, device, inode, byte_offset, line, updated_ts)
                VALUES (\(bind: position.path), \(bind: Int64(bitPattern: position.device)), \(bind: Int64(bitPattern: position.inode)),
                        \(bind: position.offset), \(bind: position.line), \(bind: now.microseconds))
                ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode, byte_offset = excluded.byte_offset,
                  line = excluded.line, updated_ts = excluded.updated_ts
                """).run()
        }
    }
}
