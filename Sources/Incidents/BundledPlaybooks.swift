/// The playbooks SecMon starts with: the four response procedures of the original design and one
/// per further rule family of the bundled pack. They are written to the `playbooks` table on first
/// start (only those missing: an administrator's edits are kept) and edited in the console.
public enum BundledPlaybooks {
    public static let all: [Playbook] = [bruteForce, apiFlood, sessionCycling, botPattern, passwordSpraying, sshAttack, webAttack]

    /// Scenario 1 of the original design (D-01, D-06, D-07).
    public static let bruteForce = Playbook(
        name: "brute-force", title: "Brute-force login attempt",
        description: "Repeated failed logins from one address: credential guessing, a risk of account compromise.",
        tasks: [
            .init("Block the suspicious IP temporarily", "The address is on the incident's entities; block it at the firewall or proxy."),
            .init("Lock the affected user account", "Users → lock, for each account the failures named, if any login succeeded."),
            .init("Review authentication logs", "Activity → filter by the address: every LOGIN_FAILURE and any LOGIN_SUCCESS after them."),
            .init("Notify the administrator"),
            .init("Reset the password if required", "Users → reset password, when a login from the address succeeded."),
        ])

    /// Scenario 2 (D-02).
    public static let apiFlood = Playbook(
        name: "api-flood", title: "API request flooding",
        description: "Many API requests in a short time: resource abuse, automation or data extraction.",
        tasks: [
            .init("Monitor the session's activity", "Activity → filter by the user and address; which endpoints, how fast."),
            .init("Apply rate limiting", "At the proxy, for the source address or the account."),
            .init("Identify the source IP", "Entities of the incident; is it a known client or integration?"),
            .init("Add the IP to the watchlist"),
        ])

    /// Scenario 3 (D-03).
    public static let sessionCycling = Playbook(
        name: "session-cycling", title: "Suspicious session cycling",
        description: "A login followed by a logout within a minute, repeatedly: session testing or a login script.",
        tasks: [
            .init("Track the session history", "Activity → filter by the user: LOGIN_SUCCESS and LOGOUT pairs, their addresses."),
            .init("Verify the user's legitimacy", "Ask the account owner whether the logins were theirs."),
            .init("Check IP consistency", "Do the logins come from the user's usual addresses?"),
            .init("Enable additional authentication checks"),
        ])

    /// Scenario 4, rapid page and API interaction (D-04).
    public static let botPattern = Playbook(
        name: "bot-pattern", title: "Rapid page and API interaction",
        description: "The same page or API call repeated faster than a person clicks: a bot, automation or reconnaissance.",
        tasks: [
            .init("Log the behaviour for monitoring", "Note the paths, the pace and the user agent in a note."),
            .init("Increase detection sensitivity", "Consider a lower threshold for this source while it is watched."),
            .init("Escalate if the pattern repeats", "Raise the severity when a new alert joins this incident."),
            .init("Combine with other anomaly signals", "Look for other incidents on the same address or user."),
        ])

    /// D-05: one address trying many accounts.
    public static let passwordSpraying = Playbook(
        name: "password-spraying", title: "Password spraying",
        description: "One address trying a few passwords against many accounts, staying under per-account lockouts.",
        tasks: [
            .init("Block the source IP", "At the firewall or proxy."),
            .init("List the targeted accounts", "Activity → filter by the address; note every attempted user name."),
            .init("Check for a successful login from the address", "A LOGIN_SUCCESS after the failures means a compromised account."),
            .init("Force password resets for accounts that logged in", "Users → reset password."),
            .init("Review the password policy", "Spraying works against common passwords."),
        ])

    /// D-08..D-10: SSH brute force, user enumeration, success after failures.
    public static let sshAttack = Playbook(
        name: "ssh-attack", title: "SSH attack",
        description: "Password guessing or user enumeration against sshd.",
        tasks: [
            .init("Block the source IP", "With the host firewall (nft, iptables) or fail2ban."),
            .init("Check for a successful login", "auth.log: 'Accepted' lines from the address; if any, treat the host as compromised."),
            .init("Review the targeted accounts", "Disable or lock accounts that should not log in over SSH."),
            .init("Harden sshd", "PasswordAuthentication no, PermitRootLogin no, AllowUsers."),
        ])

    /// D-11..D-16: injection, XSS, traversal, scanners, sensitive files, content discovery.
    public static let webAttack = Playbook(
        name: "web-attack", title: "Web application attack",
        description: "Injection, traversal or scanning against the web server.",
        tasks: [
            .init("Identify the attacking client", "Entities of the incident: address and user agent."),
            .init("Check the responses", "Were any of the attack requests answered 200? Which paths?"),
            .init("Block the client at the proxy or WAF"),
            .init("Check the application for the vulnerability", "Patch or add input validation for the targeted parameter."),
            .init("Look for follow-up activity", "Other requests from the address after the attack."),
        ])
}
