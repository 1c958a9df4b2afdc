import Foundation
import NIOCore
import SecurityModel
import Vapor

/// The outermost middleware; every request passes through it exactly once. It resolves the
/// client address, authenticates the session, turns errors into pages or JSON, adds the security
/// headers, and writes the request's activity line (and `events` row).
///
/// These steps live in one middleware because each `AsyncMiddleware` in Vapor costs thread hops
/// per request: merging five into one took a public JSON route from about 7,600 to 10,200
/// requests/s under wrk here. Each step is its own type: `SessionAuthenticator`, `ErrorRenderer`,
/// `SecurityHeaders`, `ActivityRecorder`.
///
/// Activity: pages are `PAGE_VISIT`, `/api/…` is `API_REQUEST`, unless the handler named another
/// action (`LOGIN_SUCCESS`, `LOGIN_FAILURE`, `LOGOUT`). Refused and unknown requests are written
/// too, with their status: they are what detection looks for. Static assets that exist are not.
struct SecMonMiddleware: AsyncMiddleware {
    let authenticator: SessionAuthenticator
    let recorder: ActivityRecorder
    let addresses: ClientAddressResolver
    let limiter: InFlightLimiter
    /// Host names requests may name (`nil`: any).
    let allowedHosts: Set<String>?
    /// Blocks and rate limits, checked before any other work.
    let responses: ResponseList
    let errors = ErrorRenderer()

    /// The short answer to a blocked source: no template, no session, no database.
    static func blocked(_ block: ResponseList.Entry, ip: String) -> Response {
        let until = block.expires.map { "until " + Timestamp(microseconds: $0).iso8601.prefix(19) + "Z" } ?? "until an administrator lifts it"
        let body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>403 Blocked</title></head><body>"
            + "<h1>Blocked</h1><p>Requests from your address are blocked \(until) by this site's security monitoring. "
            + "If this is a mistake, contact its administrators and give them the reference \(block.id).</p></body></html>\n"
        let response = Response(status: .forbidden, body: .init(string: body))
        response.headers.contentType = .html
        return response
    }

    /// The short answer to a source over its rate limit: 429 with `Retry-After`.
    static func limited(_ limit: ResponseList.Entry, retryAfter: Int) -> Response {
        let body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>429 Too many requests</title></head><body>"
            + "<h1>Too many requests</h1><p>Requests from your address are limited to \(limit.rate) a minute by this site's security monitoring. "
            + "Try again in \(retryAfter) second\(retryAfter == 1 ? "" : "s"). If this is a mistake, contact its administrators and give them the reference \(limit.id).</p></body></html>\n"
        let response = Response(status: .tooManyRequests, body: .init(string: body))
        response.headers.contentType = .html
        response.headers.replaceOrAdd(name: .retryAfter, value: String(retryAfter))
        return response
    }

    /// Whether the `Host` header names one of `allowed` (any port).
    static func names(_ host: String?, in allowed: Set<String>) -> Bool {
        guard let host, let endpoint = SameOrigin.parseAuthority(Substring(host)) else { return false }
        return allowed.contains(endpoint.host)
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = NIODeadline.now()
        let timestamp = Timestamp(secondsSince1970: Date().timeIntervalSince1970)
        request.clientIP = addresses.clientAddress(
            peer: request.remoteAddress?.ipAddress, forwardedFor: request.headers[.xForwardedFor]
        )
        let response: Response
        if let allowed = allowedHosts, !Self.names(request.headers.first(name: .host), in: allowed) {
            let shown = String((request.headers.first(name: .host) ?? "(none)").prefix(100))
            response = await errors.response(for: Abort(.misdirectedRequest,
                reason: "This server does not answer for the host '\(shown)'. Open it by one of its names, or add this one with --allowed-host."),
                request: request)
        } else if let verdict = responses.check(request.clientIP, now: timestamp.microseconds) {
            switch verdict {
            case .blocked(let block):
                request.activity.action = .requestBlocked
                response = Self.blocked(block, ip: request.clientIP)
            case .limited(let limit, let retryAfter):
                request.activity.action = .requestRateLimited
                response = Self.limited(limit, retryAfter: retryAfter)
            }
        } else if limiter.enter(request.clientIP) {
            defer { limiter.leave(request.clientIP) }
            do {
                try await authenticator.authenticate(request)
                response = try await next.respond(to: request)
            } catch {
                response = await errors.response(for: error, request: request)
            }
        } else {
            response = await errors.response(for: Abort(.tooManyRequests, headers: ["Retry-After": "1"],
                reason: "Too many requests from your address are in progress at once; wait for them to finish."), request: request)
        }
        SecurityHeaders.apply(to: response, for: request)
        let isStaticAsset = request.url.path.hasPrefix(StaticFilesMiddleware.prefix) && response.status.code < 400
        if !isStaticAsset {
            await recorder.record(event(for: request, response: response, timestamp: timestamp, started: started))
        }
        return response
    }

    private func event(for request: Request, response: Response, timestamp: Timestamp, started: NIODeadline) -> ActivityEvent {
        let elapsed = NIODeadline.now() - started
        let activity = request.activity
        let principal = request.principal
        return ActivityEvent(
            timestamp: timestamp,
            ipAddress: request.clientIP,
            username: activity.username ?? principal?.username ?? ActivityEvent.anonymous,
            action: activity.action ?? (request.url.path.hasPrefix("/api/") ? .apiRequest : .pageVisit),
            eventID: EventID.make(at: timestamp),
            userID: activity.userID ?? principal?.userID.uuidString.lowercased(),
            sessionRef: activity.sessionRef ?? principal?.sessionRef,
            method: request.method.rawValue,
            path: request.url.path.prefix(utf8Bytes: 2048),
            status: Int(response.status.code),
            userAgent: request.headers.first(name: .userAgent).map { $0.prefix(utf8Bytes: 512) },
            durationMs: Double(elapsed.nanoseconds) / 1_000_000,
            attemptedUsername: activity.attemptedUsername
        )
    }
}
