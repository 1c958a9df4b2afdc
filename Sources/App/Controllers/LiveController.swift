import NIOCore
import Vapor

/// `GET /live`: the console's WebSocket. Authenticated by the session cookie (any role; what is
/// sent depends on it), refused from another origin (a WebSocket is not bound by the same-origin
/// policy, so a page elsewhere could otherwise read an analyst's feed), capped per user and in all.
struct LiveController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "live", access: .role(.viewer), use: open)
    }

    @Sendable func open(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard request.headers.first(name: .upgrade)?.lowercased() == "websocket" else {
            throw Abort(.badRequest, reason: "This is the live feed's WebSocket; the dashboard opens it.")
        }
        // Browsers always send Origin on a WebSocket handshake: a missing one is not a browser of this site.
        guard let origin = request.headers.first(name: .origin),
              SameOrigin.matches(origin: origin, host: request.headers.first(name: .host) ?? "", scheme: RouteGuard.knownScheme(request)) else {
            request.logger.notice("live feed refused: another origin", metadata: ["origin": "\(request.headers.first(name: .origin)?.prefix(100) ?? "none")"])
            throw Abort(.forbidden, reason: "The live feed is for this site's own pages (the Origin is missing or another site's).")
        }
        let feed = request.secmon.live
        let id: Int
        do {
            id = try feed.reserve(user: principal.username, role: principal.role)
        } catch {
            throw Abort(.tooManyRequests, headers: ["Retry-After": "10"], reason: "The live feed is full: \(error).")
        }
        return request.webSocket(maxFrameSize: WebSocketMaxFrameSize(integerLiteral: 1024)) { _, socket in
            feed.attach(id, socket: socket)
        }
    }
}
