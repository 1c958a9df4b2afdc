import FileInspection
import Foundation
import Incidents
import SecurityModel
import Vapor

/// API v1 for file integrity (analysts read, administrators check and accept) and the file
/// scanner (analysts scan a streamed body and read the history). Answers use snake_case keys,
/// as the rest of the API.
struct FilesAPI {
    func register(_ routes: any RoutesBuilder) {
        let files = routes.grouped("api", "v1", "files")
        files.secured(.GET, "integrity", access: .role(.analyst), use: status)
        files.secured(.GET, "integrity", "changes", access: .role(.analyst), use: changes)
        files.secured(.POST, "integrity", "check", access: .role(.admin), use: check)
        files.secured(.POST, "integrity", "changes", ":id", "accept", access: .role(.admin), use: accept)
        files.secured(.GET, "scans", access: .role(.analyst), use: scans)
        files.secured(.GET, "scans", ":id", access: .role(.analyst), use: scan)
        files.secured(.POST, "scans", access: .role(.analyst), body: .stream, use: upload)
    }

    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let response = Response(status: status, body: .init(data: try encoder.encode(value)))
        response.headers.contentType = .json
        return response
    }

    struct ChangeRecord: Encodable {
        var id: String
        var path: String
        var kind: String
        var attributes: [String]
        var contentChanged: Bool
        var old: FileState?
        var new: FileState?
        var detectedAt: String
        var status: String
        var resolvedBy: String?
        var resolvedAt: String?

        init(_ stored: FileIntegrityStore.Change) {
            id = stored.id
            path = stored.change.path
            kind = stored.change.kind.rawValue
            attributes = stored.change.attributes
            contentChanged = stored.change.contentChanged
            old = stored.change.old
            new = stored.change.new
            detectedAt = stored.detected.iso8601
            status = stored.status
            resolvedBy = stored.resolvedBy
            resolvedAt = stored.resolved?.iso8601
        }

        /// A change as a check found it, before it is stored.
        init(_ change: FileChange, at time: Timestamp) {
            self.init(FileIntegrityStore.Change(id: "", change: change, detected: time, status: "open"))
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(path, forKey: .path)
            try c.encode(kind, forKey: .kind)
            try c.encode(attributes, forKey: .attributes)
            try c.encode(contentChanged, forKey: .contentChanged)
            try c.encode(old, forKey: .old)
            try c.encode(new, forKey: .new)
            try c.encode(detectedAt, forKey: .detectedAt)
            try c.encode(status, forKey: .status)
            try c.encode(resolvedBy, forKey: .resolvedBy)
            try c.encode(resolvedAt, forKey: .resolvedAt)
        }

        enum CodingKeys: String, CodingKey { case id, path, kind, attributes, contentChanged, old, new, detectedAt, status, resolvedBy, resolvedAt }
    }

    struct CheckAnswer: Encodable {
        var checkedAt: String
        var by: String
        var paths: Int
        var baselineRecorded: Bool
        var differing: Int
        var newChanges: [ChangeRecord]
        var unreadable: [String]
        var seconds: Double

        init(_ result: FileIntegrityMonitor.Result, at time: Timestamp, by actor: String) {
            checkedAt = time.iso8601
            by = actor
            paths = result.paths
            baselineRecorded = result.recordedBaseline
            differing = result.changes.count
            newChanges = result.fresh.map { ChangeRecord($0, at: time) }
            unreadable = result.problems.map(\.description)
            seconds = result.seconds
        }
    }

    struct StatusAnswer: Encodable {
        var paths: [String]
        var ignore: [String]
        var baselinePaths: Int
        var baselineRecordedAt: String?
        var openChanges: Int
        var scheduleSeconds: Double?
        var lastCheck: CheckAnswer?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(paths, forKey: .paths)
            try c.encode(ignore, forKey: .ignore)
            try c.encode(baselinePaths, forKey: .baselinePaths)
            try c.encode(baselineRecordedAt, forKey: .baselineRecordedAt)
            try c.encode(openChanges, forKey: .openChanges)
            try c.encode(scheduleSeconds, forKey: .scheduleSeconds)
            try c.encode(lastCheck, forKey: .lastCheck)
        }

        enum CodingKeys: String, CodingKey { case paths, ignore, baselinePaths, baselineRecordedAt, openChanges, scheduleSeconds, lastCheck }
    }

    @Sendable func status(_ request: Request) async throws -> Response {
        let store = FileIntegrityStore(database: try request.sqlDatabase())
        let settings = try await store.settings()
        let summary = try await store.baselineSummary()
        let last = request.secmon.fileIntegrity.lastCheck
        return try Self.json(StatusAnswer(
            paths: settings.paths, ignore: settings.ignore, baselinePaths: summary.count, baselineRecordedAt: summary.recorded?.iso8601,
            openChanges: try await store.openCount(), scheduleSeconds: request.secmon.config.fileIntegrityIntervalSeconds,
            lastCheck: last.map { CheckAnswer($0.result, at: $0.at, by: $0.by) }))
    }

    struct ChangesQuery: Content { var status: String?; var limit: Int? }
    struct ChangeList: Encodable { var changes: [ChangeRecord] }

    @Sendable func changes(_ request: Request) async throws -> Response {
        let query = try request.query.decode(ChangesQuery.self)
        let limit = try ReadAPI.limit(query.limit.map { $0 } ?? 200, max: 1000)
        let openOnly: Bool
        switch query.status ?? "open" {
        case "open": openOnly = true
        case "all": openOnly = false
        default: throw IncidentRefusal(.invalid, field: "status", "must be open or all")
        }
        let rows = try await FileIntegrityStore(database: try request.sqlDatabase()).changes(openOnly: openOnly, limit: limit)
        return try Self.json(ChangeList(changes: rows.map(ChangeRecord.init)))
    }

    @Sendable func check(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let actor = request.actor(principal)
        let result = try await request.secmon.fileIntegrity.check(initialise: true, by: actor)
        return try Self.json(CheckAnswer(result, at: .now(), by: actor.name))
    }

    @Sendable func accept(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = request.parameters.get("id") ?? ""
        let store = FileIntegrityStore(database: try request.sqlDatabase())
        guard let change = try await store.change(id) else { throw Abort(.notFound, reason: "There is no change \(id.prefix(64)).") }
        guard change.status == "open" else { throw Abort(.conflict, reason: "The change to \(change.change.path) is \(change.status) already.") }
        _ = try await store.accept([id], by: request.actor(principal), on: request.db)
        guard let accepted = try await store.change(id) else { throw Abort(.internalServerError, reason: "the accepted change vanished") }
        return try Self.json(ChangeRecord(accepted))
    }

    struct ScanSummary: Encodable {
        var id: String
        var time: String
        var name: String
        var source: String
        var scannedBy: String
        var size: UInt64
        var sha256: String
        var type: String
        var verdict: String
        var summary: String

        init(_ scan: FileScanStore.Scan) {
            id = scan.id
            time = scan.time.iso8601
            name = scan.name
            source = scan.source
            scannedBy = scan.scannedBy
            size = scan.report.size
            sha256 = scan.report.digests.sha256
            type = scan.report.type.rawValue
            verdict = scan.report.verdict.rawValue
            summary = scan.report.reasons.filter { $0.weight != .clean }.map(\.detail).joined(separator: "; ")
        }
    }

    struct ScanList: Encodable { var scans: [ScanSummary] }
    struct ScanAnswer: Encodable {
        var id: String
        var time: String
        var source: String
        var scannedBy: String
        var report: ScanReport
    }

    struct ScansQuery: Content { var limit: Int? }

    @Sendable func scans(_ request: Request) async throws -> Response {
        let limit = try ReadAPI.limit(try request.query.decode(ScansQuery.self).limit, max: 500)
        return try Self.json(ScanList(scans: try await FileScanStore(database: try request.sqlDatabase()).recent(limit: limit).map(ScanSummary.init)))
    }

    @Sendable func scan(_ request: Request) async throws -> Response {
        let id = request.parameters.get("id") ?? ""
        guard let scan = try await FileScanStore(database: try request.sqlDatabase()).find(id) else {
            throw Abort(.notFound, reason: "There is no scan \(id.prefix(64)).")
        }
        return try Self.json(ScanAnswer(id: scan.id, time: scan.time.iso8601, source: scan.source, scannedBy: scan.scannedBy, report: scan.report))
    }

    @Sendable func upload(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let receiver = UploadReceiver(config: request.secmon.config)
        let upload: UploadReceiver.Upload
        do {
            upload = try await receiver.receive(request)
        } catch let refusal as UploadReceiver.Refusal {
            throw Abort(refusal.status, reason: "Not scanned: \(refusal.reason).")
        }
        defer { try? FileManager.default.removeItem(atPath: upload.path) }
        let (id, report) = try await request.secmon.fileScans.scan(path: upload.path, name: upload.name, source: "api", user: principal.username)
        return try Self.json(ScanAnswer(id: id, time: Timestamp.now().iso8601, source: "api", scannedBy: principal.username, report: report), status: .created)
    }
}
