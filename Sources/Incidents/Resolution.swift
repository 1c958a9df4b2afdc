/// Why an incident was closed: recorded when it is closed, and required then.
public enum Resolution: String, CaseIterable, Codable, Sendable {
    /// A real attack or compromise.
    case truePositive = "true-positive"
    /// The rule fired on activity that was not what it looks for.
    case falsePositive = "false-positive"
    /// Real, as the rule describes, but harmless or authorised (a pentest, a forgetful user).
    case benign
    /// Another incident covers it (merging closes the merged incident with this).
    case duplicate

    /// A person's word for it ("True positive").
    public var label: String {
        switch self {
        case .truePositive: return "True positive"
        case .falsePositive: return "False positive"
        case .benign: return "Benign"
        case .duplicate: return "Duplicate"
        }
    }
}
