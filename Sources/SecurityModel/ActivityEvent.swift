/// One action in the web application, as written to `logs/app.log` and the `events` table.
///
/// The first five fields are the original application's, with their meaning kept: `username` is
/// `anonymous` when nobody is logged in, `taskName` is always null. The others are what an
/// investigation needs; they are `nil` where they do not apply.
public struct ActivityEvent: Hashable, Sendable {
    /// When the request arrived.
    public var timestamp: Timestamp
    /// The client address: the socket peer, or the `X-Forwarded-For` client behind a trusted proxy.
    public var ipAddress: String
    /// The logged-in user's name, or `anonymous`.
    public var username: String
    /// What happened.
    public var action: ActivityAction
    /// Unique id of this event (a UUID string).
    public var eventID: String
    /// The logged-in user's id, if any.
    public var userID: String?
    /// A non-reversible reference to the session (never the cookie value).
    public var sessionRef: String?
    /// HTTP method.
    public var method: String?
    /// Request path, without the query string.
    public var path: String?
    /// HTTP status of the response.
    public var status: Int?
    /// The client's `User-Agent`, truncated.
    public var userAgent: String?
    /// Time spent handling the request, in milliseconds.
    public var durationMs: Double?
    /// For `LOGIN_FAILURE`: the user name that was tried (truncated), for spraying and enumeration rules.
    public var attemptedUsername: String?

    /// About how many bytes the event holds in memory (what bounded queues count).
    public var estimatedBytes: Int {
        var total = 256 &+ ipAddress.utf8.count &+ username.utf8.count &+ eventID.utf8.count
        for text in [userID, sessionRef, method, path, userAgent, attemptedUsername] { total &+= text?.utf8.count ?? 0 }
        return total
    }

    /// The name written for requests without a logged-in user.
    public static let anonymous = "anonymous"

    public init(
        timestamp: Timestamp, ipAddress: String, username: String, action: ActivityAction, eventID: String,
        userID: String? = nil, sessionRef: String? = nil, method: String? = nil, path: String? = nil,
        status: Int? = nil, userAgent: String? = nil, durationMs: Double? = nil, attemptedUsername: String? = nil
    ) {
        self.timestamp = timestamp
        self.ipAddress = ipAddress
        self.username = username
        self.action = action
        self.eventID = eventID
        self.userID = userID
        self.sessionRef = sessionRef
        self.method = method
        self.path = path
        self.status = status
        self.userAgent = userAgent
        self.durationMs = durationMs
        self.attemptedUsername = attemptedUsername
    }
}
