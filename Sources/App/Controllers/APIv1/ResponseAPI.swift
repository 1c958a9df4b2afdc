import EventPipeline
import Incidents
import SecurityModel
import Vapor

/// `/api/v1/blocks`: the blocks in force, blocking a source (optionally for an incident) and
/// undoing a block, for SOAR playbooks and scripts; the same checks, audit rows and timeline lines
/// as the Response page. (Every kind of action: ``ResponseActionsAPI``.)
struct ResponseAPI {
    struct Block: Content {
        var id: String
        var target: String
        var reason: String
        var incident: String?
        var actor: String
        var createdAt: String
        var expiresAt: String?
        var state: String
        var undoneBy: String?
        enum CodingKeys: String, CodingKey {
            case id, target, reason, incident, actor, state, createdAt = "created_at", expiresAt = "expires_at", undoneBy = "undone_by"
        }

        init(_ action: ResponseStore.Action, now: Timestamp) {
            id = action.id
            target = action.target
            reason = action.reason
            incident = action.incidentID
            actor = action.actor
            createdAt = action.created.api
            expiresAt = action.expires?.api
            state = action.undone != nil ? "undone" : action.isActive(at: now) ? "in-force" : "expired"
            undoneBy = action.undoneBy
        }
    }

    struct BlockList: Content {
        var blocks: [Block]
        var refusedRequests: Int
        enum CodingKeys: String, CodingKey { case blocks, refusedRequests = "refused_requests" }
    }

    struct BlockBody: Codable {
        var target: String
        var minutes: Int
        var reason: String
        var incident: String?
    }

    func register(_ routes: any RoutesBuilder) {
        let blocks = routes.grouped("api", "v1", "blocks")
        blocks.secured(.GET, access: .role(.analyst), use: list)
        blocks.secured(.POST, access: .role(.analyst), use: create)
        blocks.secured(.POST, ":id", "undo", access: .role(.analyst), use: undo)
    }

    @Sendable func list(_ request: Request) async throws -> BlockList {
        let now = Timestamp.now()
        return BlockList(blocks: try await ResponseStore(database: request.db).activeBlocks().map { Block($0, now: now) },
                         refusedRequests: request.secmon.runtime.responses.refusedRequests)
    }

    @Sendable func create(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(BlockBody.self, from: request, allowed: ["target", "minutes", "reason", "incident"])
        let action = try await ResponseStore(database: request.db).apply(.block, target: body.target, minutes: body.minutes, reason: body.reason,
                                                                         incident: body.incident, by: request.actor(principal))
        await request.secmon.runtime.responses.reload()
        let response = try await Block(action, now: .now()).encodeResponse(for: request)
        response.status = .created
        return response
    }

    @Sendable func undo(_ request: Request) async throws -> Block {
        let principal = try request.requirePrincipal()
        guard let id = request.parameters.get("id"), id.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "id", "the block id in the path is missing or too long")
        }
        let action = try await ResponseStore(database: request.db).undo(id, by: request.actor(principal))
        await request.secmon.runtime.responses.reload()
        return Block(action, now: .now())
    }
}
