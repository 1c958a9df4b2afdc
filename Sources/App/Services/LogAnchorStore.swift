import EventPipeline
import Foundation
import Logging
import SecurityModel
import ServiceLifecycle
import SQLKit

/// The `log_anchors` table: each log chain's newest sequence number and hash, by file.
public struct LogAnchorStore: Sendable {
    public static let table = "log_anchors"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One anchor.
    public struct Anchor: Sendable, Equatable {
        public var id: String
        public var path: String
        public var sequence: UInt64
        public var hash: String
        public var updated: Timestamp
    }

    /// Records `head` as the newest link of its chain in `path`.
    public func record(path: String, head: (id: String, sequence: UInt64, hash: String), at now: Timestamp = .now()) async throws {
        try await database.raw("""
            INSERT INTO log_anchors (chain_id, path, seq, hash, updated_ts)
            VALUES (\(bind: head.id), \(bind: path), \(bind: Int64(clamping: head.sequence)), \(bind: head.hash), \(bind: now.microseconds))
            ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, updated_ts = excluded.updated_ts
            """).run()
    }

    /// The anchors of `path`.
    public func anchors(path: String) async throws -> [Anchor] {
        try await database.raw("SELECT chain_id, path, seq, hash, updated_ts FROM log_anchors WHERE path = \(bind: path) ORDER BY updated_ts").all().map { row in
            Anchor(id: try row.decode(column: "chain_id", as: String.self), path: try row.decode(column: "path", as: String.self),
                   sequence: UInt64(clamping: try row.decode(column: "seq", as: Int64.self)), hash: try row.decode(column: "hash", as: String.self),
                   updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
        }
    }
}

/// Records the chained logs' newest links every few seconds (and when SecMon stops), so that a cut
/// or replaced log shows when it is verified.
final class LogAnchorService: Service, Sendable {
    let logs: [(path: String, file: AppendOnlyLogFile)]
    let database: @Sendable () -> (any SQLDatabase)?
    let intervalSeconds: Double
    let logger: Logger

    init(logs: [(path: String, file: AppendOnlyLogFile)], database: @escaping @Sendable () -> (any SQLDatabase)?, intervalSeconds: Double = 5, logger: Logger) {
        self.logs = logs
        self.database = database
        self.intervalSeconds = intervalSeconds
        self.logger = logger
    }

    func run() async throws {
        var recorded: [String: UInt64] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await record(&recorded)
            // Woken by a graceful shutdown, so that stopping does not wait out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(self.intervalSeconds)) }
        }
        await record(&recorded)
    }

    /// Writes each log's head when it moved since the last time.
    func record(_ recorded: inout [String: UInt64]) async {
        guard let sql = database() else { return }
        for log in logs {
            guard let head = log.file.chainHead, recorded[head.id] != head.sequence else { continue }
            do {
                try await LogAnchorStore(database: sql).record(path: log.path, head: head)
                recorded[head.id] = head.sequence
            } catch {
                logger.error("the log anchor could not be recorded", metadata: ["path": "\(log.path)", "error": "\(error)"])
            }
        }
    }
}
