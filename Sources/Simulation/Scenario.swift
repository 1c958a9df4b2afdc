/// An attack scenario of the original design, as the HTTP requests that play it and the incident
/// it should open. Pure: ``Simulator`` sends the requests.
public struct Scenario: Sendable, Hashable {
    /// One thing an attacker does.
    public enum Step: Sendable, Hashable {
        /// Loads the login form and posts a wrong password for `user`.
        case failedLogin(user: String)
        /// Logs in with the simulation account (`--user`).
        case login
        /// Logs out (posting the session's CSRF token).
        case logout
        /// A plain GET (a page or an API call), logged in or not.
        case get(String)
    }

    /// What SecMon should show afterwards.
    public struct Expectation: Sendable, Hashable {
        public var rule: String
        public var severity: String
        public var playbook: String
        /// The entity the incident is about (`ip 127.0.0.2`, `user alice`).
        public var about: String
        /// How many alerts the incident should hold.
        public var alerts: Int
    }

    public var name: String
    public var summary: String
    /// The loopback address the attacker sends from (each scenario its own).
    public var source: String
    public var steps: [Step]
    /// Whether it needs the simulation account.
    public var needsAccount: Bool
    public var expectation: Expectation

    /// Requests the steps send.
    public var requestCount: Int {
        steps.reduce(0) { total, step in
            switch step {
            case .failedLogin, .login: return total + 2
            case .logout: return total + 2
            case .get: return total + 1
            }
        }
    }

    /// The four scenarios of the original design, each from its own address (127.0.0.2 to .5), so
    /// they are told apart from each other and from an analyst at 127.0.0.1. `user` is the
    /// simulation account (session cycling logs it in and out).
    public static func all(user: String) -> [Scenario] {
        [bruteForce, apiFlood, sessionCycling(user: user), botPattern]
    }

    /// The names `secmon simulate` takes.
    public static let names = ["brute-force", "api-flood", "session-cycling", "bot-pattern"]

    /// The scenario called `name`.
    public static func named(_ name: String, user: String) -> Scenario? {
        all(user: user).first { $0.name == name }
    }

    /// Scenario 1: more than 3 failed logins from one address in 5 minutes. The user name does not
    /// exist, so no real account is locked.
    public static let bruteForce = Scenario(
        name: "brute-force", summary: "6 failed logins for 'root' (no such account)", source: "127.0.0.2",
        steps: Array(repeating: .failedLogin(user: "root"), count: 6), needsAccount: false,
        expectation: Expectation(rule: "D-01", severity: "high", playbook: "brute-force", about: "ip 127.0.0.2", alerts: 1))

    /// Scenario 2: more than 10 API requests from one address in 2 minutes.
    public static let apiFlood = Scenario(
        name: "api-flood", summary: "15 API requests (GET /api/status) in a burst", source: "127.0.0.3",
        steps: Array(repeating: .get("/api/status"), count: 15), needsAccount: false,
        expectation: Expectation(rule: "D-02", severity: "medium", playbook: "api-flood", about: "ip 127.0.0.3", alerts: 1))

    /// Scenario 3: a login followed by a logout within a minute, three times: three alerts, one incident.
    public static func sessionCycling(user: String) -> Scenario {
        Scenario(
            name: "session-cycling", summary: "3 times: log in as '\(user)' and log out at once", source: "127.0.0.4",
            steps: Array([Step.login, .logout, .login, .logout, .login, .logout]), needsAccount: true,
            expectation: Expectation(rule: "D-03", severity: "medium", playbook: "session-cycling", about: "user \(user)", alerts: 3))
    }

    /// Scenario 4: a page then an API call, again and again, faster than a person.
    public static let botPattern = Scenario(
        name: "bot-pattern", summary: "6 times: GET /login then GET /api/status", source: "127.0.0.5",
        steps: Array(repeating: [Step.get("/login"), .get("/api/status")], count: 6).flatMap { $0 }, needsAccount: false,
        expectation: Expectation(rule: "D-04", severity: "low", playbook: "bot-pattern", about: "ip 127.0.0.5", alerts: 1))
}
