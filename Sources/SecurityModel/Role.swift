/// What a user may do. Each role includes everything the roles below it may do.
public enum Role: String, CaseIterable, Codable, Comparable, Sendable {
    /// Reads dashboards and status.
    case viewer
    /// Reads the activity log and works alerts and incidents.
    case analyst
    /// Manages users and configuration.
    case admin

    private var rank: Int { Role.allCases.firstIndex(of: self)! }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// Whether this role includes `required`.
    public func includes(_ required: Role) -> Bool { self >= required }
}
