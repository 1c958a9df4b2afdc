import EventPipeline
import Incidents
import SecurityModel
import Vapor

/// The log files SecMon follows (`--tail`): for each, its format, state, where it is read to, and
/// its counts (lines, events, lines refused with the last reason, over-long lines skipped,
/// rotations, truncations). A page for analysts and `GET /api/v1/sources` for scripts.
struct SourcesController {
    struct Item: Content {
        var path: String
        var format: String
        var state: String
        var following: Bool
        var offset: Int64
        var size: Int64
        var lines: Int64
        var events: Int64
        var rejected: Int64
        var oversized: Int64
        var rotations: Int
        var truncations: Int
        var lastRejection: String?
        var lastEvent: String?

        init(_ status: FileTailSource.Status) {
            path = status.path
            format = status.format.rawValue
            state = status.state
            following = status.state == "following"
            offset = status.offset
            size = status.size
            lines = status.lines
            events = status.events
            rejected = status.rejected
            oversized = status.oversized
            rotations = status.rotations
            truncations = status.truncations
            lastRejection = status.lastRejection
            lastEvent = status.lastEvent.map(FormValues.display)
        }

        enum CodingKeys: String, CodingKey {
            case path, format, state, following, offset, size, lines, events, rejected, oversized, rotations, truncations
            case lastRejection = "last_rejection", lastEvent = "last_event"
        }
    }

    struct KeyItem: Encodable {
        var id: String
        var name: String
        var format: String
        var prefix: String
        var createdBy: String
        var created: String
        var revoked: String?
        var posts: Int
        var accepted: Int
        var rejected: Int
        var lastPost: String?
        var lastRejection: String?
    }

    struct Context: Encodable {
        var title = "Sources"
        var user: LayoutUser
        var files: [Item]
        var liveDetection: Bool
        var keys: [KeyItem]
        var formats: [String]
        /// A key just made: shown this once.
        var newKey: String?
        var newKeyName: String?
        var notice: String?
        var error: String?
    }

    struct KeyForm: Content {
        var name: String?
        var format: String?
    }

    struct Answer: Content {
        var files: [Item]
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "sources", access: .role(.analyst), use: page)
        routes.secured(.GET, "api", "v1", "sources", access: .role(.analyst), use: api)
        routes.secured(.POST, "sources", "ingest-keys", access: .role(.admin), use: createKey)
        routes.secured(.POST, "sources", "ingest-keys", ":id", "revoke", access: .role(.admin), use: revokeKey)
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func createKey(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(KeyForm.self)
        do {
            let (key, record) = try await IngestKeyStore(database: try request.sqlDatabase()).create(
                name: FormValues.clean(form.name, maxBytes: 64) ?? "", format: form.format ?? "", by: request.actor(principal))
            return try await render(request, newKey: key, newKeyName: record.name)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "No key was made: \(refusal.field): \(refusal.reason).")
        }
    }

    @Sendable func revokeKey(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        do {
            let record = try await IngestKeyStore(database: try request.sqlDatabase()).revoke(request.parameters.get("id") ?? "", by: request.actor(principal))
            return try await render(request, notice: "The key of \(record.name) is revoked: its posts are refused from now on.")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not revoked: \(refusal.reason).")
        }
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, newKey: String? = nil, newKeyName: String? = nil,
                        notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let files = (request.secmon.tails?.statuses ?? []).map(Item.init)
        let counters = request.secmon.ingestCounters
        let keys = try await IngestKeyStore(database: try request.sqlDatabase()).all().map { record in
            let counts = counters[record.name]
            return KeyItem(id: record.id, name: record.name, format: record.format.rawValue, prefix: record.prefix, createdBy: record.createdBy,
                           created: FormValues.display(record.created), revoked: record.revoked.map(FormValues.display), posts: counts.posts,
                           accepted: counts.accepted, rejected: counts.rejected, lastPost: counts.lastPost.map(FormValues.display),
                           lastRejection: counts.lastRejection)
        }
        let context = Context(user: LayoutUser(principal), files: files, liveDetection: request.secmon.runtime.detection != nil, keys: keys,
                              formats: IngestKeyStore.formats.map(\.rawValue), newKey: newKey, newKeyName: newKeyName, notice: notice, error: error)
        let response = try await request.view.render("sources", context).encodeResponse(for: request)
        response.status = status
        return response
    }

    @Sendable func api(_ request: Request) async throws -> Answer {
        Answer(files: (request.secmon.tails?.statuses ?? []).map(Item.init))
    }
}
