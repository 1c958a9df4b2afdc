import SecurityModel

/// How serious an incident is. Starts from the level of the rule that opened it and may be
/// adjusted by an analyst.
public enum IncidentSeverity: String, CaseIterable, Codable, Sendable, Comparable {
    case low, medium, high, critical

    /// The severity of an incident opened by an alert of `level` (Sigma's `informational` is `low`).
    public init(level: Severity) {
        switch level {
        case .informational, .low: self = .low
        case .medium: self = .medium
        case .high: self = .high
        case .critical: self = .critical
        }
    }

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: IncidentSeverity, rhs: IncidentSeverity) -> Bool { lhs.rank < rhs.rank }

    /// A person's word for it ("High").
    public var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}
