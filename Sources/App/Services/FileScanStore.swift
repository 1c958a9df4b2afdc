import EventPipeline
import FileInspection
import Foundation
import SecurityModel
import SQLKit

/// The scanner's history: each scan's report whole (JSON), with its verdict and a one-line
/// summary of its reasons, newest first.
public struct FileScanStore: Sendable {
    public static let table = "file_scans"
    /// Scans kept; older ones are deleted as new ones arrive.
    static let keep = 10_000
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One scan as stored.
    public struct Scan: Sendable {
        public var id: String
        public var time: Timestamp
        public var name: String
        /// `upload`, `path`, `api`.
        public var source: String
        public var scannedBy: String
        public var report: ScanReport
    }

    /// Stores `report` and answers its id.
    public func insert(_ report: ScanReport, source: String, by user: String, at now: Timestamp = .now()) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        let summary = report.reasons.filter { $0.weight != .clean }.map(\.detail).joined(separator: "; ").prefix(utf8Bytes: 1000)
        try await database.raw("""
            INSERT INTO file_scans (id, ts, name, source, scanned_by, size, sha256, file_type, verdict, summary, report)
            VALUES (\(bind: id), \(bind: now.microseconds), \(bind: report.name.prefix(utf8Bytes: 1024)), \(bind: source), \(bind: user),
                    \(bind: Int64(clamping: report.size)), \(bind: report.digests.sha256), \(bind: report.type.rawValue),
                    \(bind: report.verdict.rawValue), \(bind: summary), \(bind: json))
            """).run()
        try await database.raw("""
            DELETE FROM file_scans WHERE ts < (SELECT MIN(ts) FROM (SELECT ts FROM file_scans ORDER BY ts DESC LIMIT \(bind: Self.keep)) AS kept)
            """).run()
        return id
    }

    /// Newest first, at most `limit`.
    public func recent(limit: Int = 100) async throws -> [Scan] {
        try await database.raw("SELECT * FROM file_scans ORDER BY ts DESC LIMIT \(bind: limit)").all().map(Self.scan)
    }

    public func find(_ id: String) async throws -> Scan? {
        try await database.raw("SELECT * FROM file_scans WHERE id = \(bind: id)").first().map(Self.scan)
    }

    static func scan(_ row: any SQLRow) throws -> Scan {
        let report = try JSONDecoder().decode(ScanReport.self, from: Data(try row.decode(column: "report", as: String.self).utf8))
        return Scan(id: try row.decode(column: "id", as: String.self), time: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)),
                    name: try row.decode(column: "name", as: String.self), source: try row.decode(column: "source", as: String.self),
                    scannedBy: try row.decode(column: "scanned_by", as: String.self), report: report)
    }
}
