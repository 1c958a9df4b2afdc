import EventPipeline
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

    struct Context: Encodable {
        var title = "Sources"
        var user: LayoutUser
        var files: [Item]
        var liveDetection: Bool
    }

    struct Answer: Content {
        var files: [Item]
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "sources", access: .role(.analyst), use: page)
        routes.secured(.GET, "api", "v1", "sources", access: .role(.analyst), use: api)
    }

    @Sendable func page(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let files = (request.secmon.tails?.statuses ?? []).map(Item.init)
        return try await request.view.render("sources", Context(user: LayoutUser(principal), files: files,
                                                                liveDetection: request.secmon.runtime.detection != nil))
    }

    @Sendable func api(_ request: Request) async throws -> Answer {
        Answer(files: (request.secmon.tails?.statuses ?? []).map(Item.init))
    }
}
