/// How serious an alert or incident is, in Sigma's level vocabulary, ordered from least to most.
public enum Severity: String, CaseIterable, Comparable, Codable, Sendable {
    case informational, low, medium, high, critical

    private var rank: Int { Severity.allCases.firstIndex(of: self)! }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}
