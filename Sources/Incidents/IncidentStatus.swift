/// Where an incident stands in the response procedure: Detection → Alert → Analyst Review →
/// Investigation → Action → Documentation → Closure.
///
/// Only the transitions in ``next`` are legal. `closed` is final (a closed incident keeps its
/// resolution); a `resolved` incident may be taken up again (`investigating`) when the attack comes back.
public enum IncidentStatus: String, CaseIterable, Codable, Sendable {
    /// Opened from an alert; nobody has looked at it yet.
    case new
    /// An analyst has seen it and owns the review.
    case acknowledged
    /// Evidence is being gathered.
    case investigating
    /// The threat is stopped (an address blocked, an account locked); clean-up remains.
    case contained
    /// Handled; waiting for documentation and closure.
    case resolved
    /// Documented and closed with a resolution. Final.
    case closed

    /// The statuses this one may move to.
    public var next: [IncidentStatus] {
        switch self {
        case .new: return [.acknowledged, .investigating, .contained, .resolved, .closed]
        case .acknowledged: return [.investigating, .contained, .resolved, .closed]
        case .investigating: return [.contained, .resolved, .closed]
        case .contained: return [.investigating, .resolved, .closed]
        case .resolved: return [.investigating, .closed]
        case .closed: return []
        }
    }

    /// Whether moving from this status to `other` is legal.
    public func canMove(to other: IncidentStatus) -> Bool { next.contains(other) }

    /// Still being worked on: new alerts for the same rule and group join it.
    public var isOpen: Bool { self != .resolved && self != .closed }

    /// Someone has taken it up (the end of "time to acknowledge").
    public var isAcknowledged: Bool { self != .new }

    /// The statuses in which an incident is open, for queries.
    public static let openStatuses: [IncidentStatus] = allCases.filter(\.isOpen)

    /// A person's word for it ("Acknowledged").
    public var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}
