import SecurityModel
import Vapor

/// Per-request facts that middleware and handlers share.
extension Request {
    private struct PrincipalKey: StorageKey { typealias Value = Principal }
    private struct ActivityKey: StorageKey { typealias Value = ActivityOverride }
    private struct ClientIPKey: StorageKey { typealias Value = String }

    /// The logged-in user, if the request carried a valid session cookie.
    public var principal: Principal? {
        get { storage[PrincipalKey.self] }
        set { storage[PrincipalKey.self] = newValue }
    }

    /// What a handler says about the activity line of this request (its action and user).
    var activity: ActivityOverride {
        get { storage[ActivityKey.self] ?? ActivityOverride() }
        set { storage[ActivityKey.self] = newValue }
    }

    /// The client address (resolved once by `SecMonMiddleware` through the trusted proxies).
    public var clientIP: String {
        get { storage[ClientIPKey.self] ?? remoteAddress?.ipAddress ?? "unknown" }
        set { storage[ClientIPKey.self] = newValue }
    }

    /// The logged-in user as an actor of the audit trail (with the client address).
    func actor(_ principal: Principal) -> AuditTrail.Actor {
        .user(principal.username, ip: clientIP)
    }

    /// Appends an audit row for this request's user (or `name` when nobody is logged in yet, as
    /// at login). A failure to write it is logged as an error; the action itself has happened.
    func audit(_ action: String, target: String, before: String? = nil, after: String? = nil, name: String? = nil) async {
        let actor = AuditTrail.Actor.user(name ?? principal?.username ?? "anonymous", ip: clientIP)
        await secmon.auditor.record(.init(actor: actor, action: action, target: target, before: before, after: after))
    }

    /// Whether the request wants JSON rather than a page: API paths, or an `Accept` that prefers JSON.
    var wantsJSON: Bool {
        url.path.hasPrefix("/api/") || (headers.first(name: .accept)?.contains("application/json") ?? false)
    }
}

/// Set by handlers whose activity is not a plain page visit or API request.
struct ActivityOverride: Sendable {
    var action: ActivityAction?
    /// The user the line names, when it differs from the session's (a login or a logout).
    var username: String?
    var userID: String?
    var sessionRef: String?
    var attemptedUsername: String?
}
