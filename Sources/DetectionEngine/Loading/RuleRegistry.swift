/// The ids and names of the loaded rules, unique across detections and correlations: what
/// correlations and filters refer to.
struct RuleRegistry {
    /// What a reference leads to.
    enum Entry: Equatable {
        /// A detection rule, by node index.
        case detection(Int)
        /// A correlation, by its index among the parsed correlations.
        case correlation(Int)
        /// A baseline, by its index among the loaded baselines.
        case baseline
    }

    private var seen: [String: RuleInfo] = [:]
    private var entries: [String: Entry] = [:]

    /// Registers the rule's id and name, or throws if another rule took one of them (registering
    /// neither).
    mutating func register(_ info: RuleInfo, as entry: Entry) throws(RuleLoadError) {
        let keys = [info.id, info.name].compactMap { $0 }
        for key in keys {
            if let other = seen[key] {
                throw RuleLoadError(.duplicate, "'\(key)' is already used by '\(other.title)' (\(other.file):\(other.line)); ids and names must be unique", line: info.line)
            }
        }
        for key in keys {
            seen[key] = info
            entries[key] = entry
        }
    }

    /// What `reference` (an id or a name) leads to, if it was registered.
    subscript(reference: String) -> Entry? { entries[reference] }

    /// The detection node `reference` names, if it names a detection.
    func detection(_ reference: String) -> Int? {
        if case .detection(let node)? = entries[reference] { return node }
        return nil
    }

    /// The correlation `reference` names, if it names one.
    func correlation(_ reference: String) -> Int? {
        if case .correlation(let index)? = entries[reference] { return index }
        return nil
    }
}
