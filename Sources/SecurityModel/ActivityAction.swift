/// The `action` of a line in the activity log.
///
/// The five values of the original application keep their names and meaning; the type is open
/// (a raw string) so that other sources can name their own actions.
public struct ActivityAction: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A login with valid credentials.
    public static let loginSuccess = ActivityAction(rawValue: "LOGIN_SUCCESS")
    /// A login attempt that was refused, whatever the reason (unknown user, wrong password, locked).
    public static let loginFailure = ActivityAction(rawValue: "LOGIN_FAILURE")
    /// A login form post refused before any password was checked (its CSRF token was missing or
    /// wrong): not a login attempt, so not a `LOGIN_FAILURE`.
    public static let loginRejected = ActivityAction(rawValue: "LOGIN_REJECTED")
    /// A request for a page (HTML), including form posts and requests that were refused.
    public static let pageVisit = ActivityAction(rawValue: "PAGE_VISIT")
    /// A request to the JSON API under `/api/`.
    public static let apiRequest = ActivityAction(rawValue: "API_REQUEST")
    /// The end of a session at the user's request.
    public static let logout = ActivityAction(rawValue: "LOGOUT")

    /// A request refused before any other work because its source is blocked (active response).
    public static let requestBlocked = ActivityAction(rawValue: "REQUEST_BLOCKED")

    /// A request refused with 429 before any other work because its source is over the rate limit
    /// active response set for it.
    public static let requestRateLimited = ActivityAction(rawValue: "REQUEST_RATE_LIMITED")
    /// A login attempt refused before its password was checked, because of recent failures from
    /// its address (or for its user from that address, or with its device cookie). The brute-force
    /// rules count it as a failed attempt.
    public static let loginThrottled = ActivityAction(rawValue: "LOGIN_THROTTLED")

    /// The actions the web application writes.
    public static let applicationActions: [ActivityAction] = [
        .loginSuccess, .loginFailure, .loginRejected, .loginThrottled, .pageVisit, .apiRequest, .logout, .requestBlocked, .requestRateLimited,
    ]

    public var description: String { rawValue }
}
