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
