/// Where one playbook task of an incident stands.
public enum TaskState: String, CaseIterable, Codable, Sendable {
    case open
    case done
    case skipped

    /// A person's word for it.
    public var label: String {
        switch self {
        case .open: return "To do"
        case .done: return "Done"
        case .skipped: return "Skipped"
        }
    }
}
