/// The response policies SecMon starts with, where the original design calls for a response:
/// D-01 (brute force) blocks the source, escalating for repeat offenders; D-02 (API flood)
/// rate-limits and watchlists it; D-06 (a login that succeeded after many failures: possible
/// compromise) locks the account that logged in and ends its sessions.
///
/// No rule locks the account an attacker names: that would let anyone lock out any user.
public enum BundledResponsePolicies {
    public static let all: [ResponsePolicy] = [
        ResponsePolicy(rule: "D-01", actions: [.block], minutes: 10, escalation: 4, maxMinutes: 7 * 24 * 60),
        ResponsePolicy(rule: "D-02", actions: [.rateLimit, .watch], minutes: 60, escalation: 2, maxMinutes: 24 * 60, ratePerMinute: 30),
        ResponsePolicy(rule: "D-06", actions: [.lock], minutes: 24 * 60),
    ]
}
