import Foundation
import NIOCore
import SecurityModel
import Vapor

/// Writes one activity line (and one `events` row) for every request that reaches the router:
/// pages as `PAGE_VISIT`, `/api/…` as `API_REQUEST`, unless the handler named another action
/// (`LOGIN_SUCCESS`, `LOGIN_FAILURE`, `LOGOUT`). Refused and unknown requests are written too,
/// with their status: they are what detection looks for. Static assets are served before this
/// middleware and are not written.
struct ActivityLogMiddleware: AsyncMiddleware {
    let recorder: ActivityRecorder
    let addresses: ClientAddressResolver

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = NIODeadline.now()
        let timestamp = Timestamp(secondsSince1970: Date().timeIntervalSince1970)
        request.clientIP = addresses.clientAddress(
            peer: request.remoteAddress?.ipAddress, forwardedFor: request.headers[.xForwardedFor]
        )
        let response = try await next.respond(to: request)
        let elapsed = NIODeadline.now() - started
        let activity = request.activity
        let principal = request.principal
        let isAPI = request.url.path.hasPrefix("/api/")
        let event = ActivityEvent(
            timestamp: timestamp,
            ipAddress: request.clientIP,
            username: activity.username ?? principal?.username ?? ActivityEvent.anonymous,
            action: activity.action ?? (isAPI ? .apiRequest : .pageVisit),
            eventID: UUID().uuidString.lowercased(),
            userID: activity.userID ?? principal?.userID.uuidString.lowercased(),
            sessionRef: activity.sessionRef ?? principal?.sessionRef,
            method: request.method.rawValue,
            path: String(request.url.path.prefix(2048)),
            status: Int(response.status.code),
            userAgent: request.headers.first(name: .userAgent).map { String($0.prefix(512)) },
            durationMs: Double(elapsed.nanoseconds) / 1_000_000,
            attemptedUsername: activity.attemptedUsername
        )
        await recorder.record(event)
        return response
    }
}
