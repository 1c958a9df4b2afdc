import HostResponse
import Incidents
import SecurityModel
import ThreatScore
import Vapor

/// API v1 for the threat score (viewers), process termination and the quarantine
/// (administrators): the same checks, refusals, dry run and audit trail as the pages.
struct HostResponseAPI {
    func register(_ routes: any RoutesBuilder) {
        let host = routes.grouped("api", "v1", "host")
        host.secured(.GET, "score", access: .role(.viewer), use: score)
        host.secured(.POST, "processes", ":pid", "terminate", access: .role(.admin), use: terminate)
        let files = routes.grouped("api", "v1", "files")
        files.secured(.GET, "quarantine", access: .role(.admin), use: quarantined)
        files.secured(.POST, "quarantine", access: .role(.admin), use: quarantine)
        files.secured(.POST, "quarantine", ":id", "restore", access: .role(.admin), use: restore)
    }

    struct ScoreAnswer: Encodable {
        var computedAt: String
        var score: HostThreatScore
        var level: String
    }

    @Sendable func score(_ request: Request) async throws -> Response {
        let store = HostScoreStore(database: try request.sqlDatabase())
        if try await store.latest() == nil { _ = try await request.secmon.threatScore.computeAndStore() }
        guard let entry = try await store.latest() else { throw Abort(.internalServerError, reason: "The score could not be computed.") }
        return try FilesAPI.json(ScoreAnswer(computedAt: entry.time.iso8601, score: entry.score, level: entry.score.level))
    }

    struct TerminateAnswer: Encodable {
        var pid: Int32
        var name: String
        var outcome: String
        var summary: String
    }

    @Sendable func terminate(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let pid = request.parameters.get("pid").flatMap(Int32.init), pid > 0 else {
            throw IncidentRefusal(.invalid, field: "pid", "a process id is a positive number")
        }
        struct Body: Decodable { var start_ticks: UInt64 }
        let body = try StrictBody.decode(Body.self, from: request, allowed: ["start_ticks"])
        let service = request.secmon.hostResponse
        let name = service.terminator.target(pid).map(\.name) ?? "?"
        let outcome = try await service.terminate(pid: pid, startTicks: body.start_ticks, name: name, by: request.actor(principal))
        let kind: String
        switch outcome {
        case .terminated: kind = "terminated"
        case .killed: kind = "killed"
        case .alreadyGone: kind = "already_gone"
        case .wouldTerminate: kind = "dry_run"
        }
        return try FilesAPI.json(TerminateAnswer(pid: pid, name: name, outcome: kind, summary: outcome.summary))
    }

    struct QuarantineList: Encodable { var files: [Quarantine.Record]; var directory: String }

    @Sendable func quarantined(_ request: Request) async throws -> Response {
        let service = request.secmon.hostResponse
        return try FilesAPI.json(QuarantineList(files: service.quarantine.records(), directory: service.quarantine.directory))
    }

    struct QuarantineAnswer: Encodable { var dryRun: Bool; var file: Quarantine.Record? }

    @Sendable func quarantine(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        struct Body: Decodable { var path: String }
        let body = try StrictBody.decode(Body.self, from: request, allowed: ["path"])
        let record = try await request.secmon.hostResponse.quarantine(body.path, by: request.actor(principal))
        return try FilesAPI.json(QuarantineAnswer(dryRun: record == nil, file: record), status: record == nil ? .ok : .created)
    }

    @Sendable func restore(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let record = try await request.secmon.hostResponse.restore(request.parameters.get("id") ?? "", by: request.actor(principal))
        return try FilesAPI.json(QuarantineAnswer(dryRun: false, file: record))
    }
}
