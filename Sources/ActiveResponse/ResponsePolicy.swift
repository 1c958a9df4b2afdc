import Incidents

/// What SecMon does by itself when a rule raises an alert: which actions, for how long, how the
/// duration grows for repeat offenders (as fail2ban's `bantime.increment`), and whether it only
/// records what it would have done (dry run).
public struct ResponsePolicy: Sendable, Hashable, Codable {
    /// The rule's label (`D-01`).
    public var rule: String
    /// The actions on addresses and accounts, in the order they are taken.
    public var actions: [ResponseKind]
    /// The actions on the host (terminate the alert's process, quarantine its file), taken before
    /// ``actions``. None by default: a policy acts on the host only when an administrator says so.
    public var hostActions: [HostAction]
    /// Duration of the first action, in minutes.
    public var minutes: Int
    /// Each earlier block of the same source within `ResponsePolicy.memoryDays` multiplies the
    /// duration by this (1: no escalation).
    public var escalation: Int
    /// The longest duration escalation reaches, in minutes.
    public var maxMinutes: Int
    /// Requests per minute a rate-limited source may still make.
    public var ratePerMinute: Int
    /// Record what would have been done, without doing it.
    public var dryRun: Bool
    /// Off: the rule's alerts trigger nothing.
    public var enabled: Bool

    public init(rule: String, actions: [ResponseKind], hostActions: [HostAction] = [], minutes: Int, escalation: Int = 1, maxMinutes: Int? = nil,
                ratePerMinute: Int = 60, dryRun: Bool = false, enabled: Bool = true) {
        self.rule = rule
        self.actions = actions
        self.hostActions = hostActions
        self.minutes = minutes
        self.escalation = escalation
        self.maxMinutes = maxMinutes ?? minutes
        self.ratePerMinute = ratePerMinute
        self.dryRun = dryRun
        self.enabled = enabled
    }

    /// Shortest and longest action, in minutes (a year and a day).
    public static let durations = 1...(366 * 24 * 60)
    /// Largest escalation factor.
    public static let escalations = 1...10
    /// Rates a rate limit may allow, per minute.
    public static let rates = 1...100_000
    /// How far back earlier blocks of a source count for escalation, in days.
    public static let memoryDays = 30

    /// Refuses, naming the field, a policy that cannot be applied: no actions, an action a policy
    /// may not take, the same action twice, block with rate limit (a blocked source is never
    /// rate-limited: choose one), durations or factors out of range, a maximum below the first
    /// duration.
    public func validate() throws {
        if actions.isEmpty && hostActions.isEmpty && enabled {
            throw IncidentRefusal(.invalid, field: "actions", "choose at least one action, or turn the policy off")
        }
        for action in actions where !ResponseKind.automatic.contains(action) {
            throw IncidentRefusal(.invalid, field: "actions", "a policy cannot \(action.rawValue) automatically: allowlisting is a person's decision")
        }
        if Set(actions).count != actions.count || Set(hostActions).count != hostActions.count {
            throw IncidentRefusal(.invalid, field: "actions", "each action once")
        }
        if actions.contains(.block) && actions.contains(.rateLimit) {
            throw IncidentRefusal(.conflict, field: "actions", "block and rate limit conflict: a blocked source is never rate-limited; choose one")
        }
        guard Self.durations.contains(minutes) else {
            throw IncidentRefusal(.invalid, field: "minutes", "an action lasts 1 minute to 366 days (\(Self.durations.upperBound) minutes)")
        }
        guard Self.durations.contains(maxMinutes) else {
            throw IncidentRefusal(.invalid, field: "max_minutes", "the longest duration is 1 minute to 366 days (\(Self.durations.upperBound) minutes)")
        }
        guard maxMinutes >= minutes else {
            throw IncidentRefusal(.conflict, field: "max_minutes", "the longest duration (\(maxMinutes) min) is shorter than the first (\(minutes) min)")
        }
        guard Self.escalations.contains(escalation) else {
            throw IncidentRefusal(.invalid, field: "escalation", "the escalation factor is 1 (none) to \(Self.escalations.upperBound)")
        }
        guard Self.rates.contains(ratePerMinute) else {
            throw IncidentRefusal(.invalid, field: "rate", "a rate limit allows 1 to \(Self.rates.upperBound) requests a minute")
        }
    }

    /// The duration after `previous` earlier blocks of the same source: `minutes × escalation^previous`,
    /// at most `maxMinutes` (checked arithmetic: a large count saturates at the maximum).
    public func duration(previous: Int) -> Int {
        var result = minutes
        var step = 0
        while step < previous && result < maxMinutes {
            let (product, overflow) = result.multipliedReportingOverflow(by: escalation)
            if overflow || escalation == 1 { break }
            result = product
            step += 1
        }
        return min(result, maxMinutes)
    }

    /// "block for 10 min, ×2 per repeat up to 1440 min", "terminate the process; block for 10 min"
    /// for lists and the audit trail.
    public var summary: String {
        guard enabled else { return "off" }
        var sentences: [String] = []
        if !hostActions.isEmpty { sentences.append(hostActions.map(\.summary).joined(separator: ", ")) }
        if !actions.isEmpty {
            var parts = actions.map { $0 == .rateLimit ? "rate-limit to \(ratePerMinute)/min" : $0.rawValue }.joined(separator: ", ")
            parts += " for \(minutes) min"
            if escalation > 1 { parts += ", ×\(escalation) per repeat up to \(maxMinutes) min" }
            sentences.append(parts)
        }
        var text = sentences.joined(separator: "; ")
        if dryRun { text += " (dry run)" }
        return text
    }

    /// Every action's name as stored and in the API (`terminate,block`): host actions first, as
    /// they are taken first (a running reverse shell matters more than its address).
    public var actionNames: [String] { hostActions.map(\.rawValue) + actions.map(\.rawValue) }

    /// Splits action names (`block`, `rate-limit`, `terminate`, ...) into the two lists, in their
    /// order, refusing an unknown name.
    public static func actions(named names: [String]) throws -> (network: [ResponseKind], host: [HostAction]) {
        var network: [ResponseKind] = [], host: [HostAction] = []
        for name in names {
            if let kind = ResponseKind(parsing: name) { network.append(kind) }
            else if let action = HostAction(rawValue: name.lowercased()) { host.append(action) }
            else {
                throw IncidentRefusal(.invalid, field: "actions",
                                      "'\(name.prefix(32))' is not an action (block, ratelimit, lock, watch, terminate, quarantine)")
            }
        }
        return (network, host)
    }
}
