import SecurityModel

/// A compiled Sigma detection rule: tests one event at a time.
public struct DetectionRule: Sendable {
    public let info: RuleInfo
    public let logSource: LogSource
    let searches: [SearchIdentifier]
    let condition: ConditionExpression
    /// Sigma filters (`mf_*.yml`) attached to this rule; each must hold too.
    var filters: [CompiledFilter] = [] {
        didSet { decidedByIndex = false }
    }
    /// Whether an index hit on the rule's required values is a match by itself (plain equality
    /// rules without filters): the index then spares the evaluation.
    private(set) var decidedByIndex = false

    init(info: RuleInfo, logSource: LogSource, searches: [SearchIdentifier], condition: ConditionExpression) {
        self.info = info
        self.logSource = logSource
        self.searches = searches
        self.condition = condition
        self.decidedByIndex = condition.requirement(searches)?.exhaustive ?? false
    }

    /// Whether the rule (or a filter on it) searches the raw line with keywords.
    var usesKeywords: Bool {
        (searches + filters.flatMap(\.searches)).contains { if case .keywords = $0.body { return true }; return false }
    }

    /// Whether `event` matches the rule and passes every filter that applies to its stream.
    func matches(_ event: EventRecord) -> Bool {
        withUnsafePointer(to: self) { Self.matches($0, event) }
    }

    /// ``matches(_:)`` for a rule read in place (the rule index's hot path: copying a rule would
    /// retain each of its strings and arrays).
    @inline(__always)
    static func matches(_ rule: UnsafePointer<DetectionRule>, _ event: EventRecord) -> Bool {
        guard rule.pointee.condition.evaluate(rule.pointee.searches, event) else { return false }
        if rule.pointee.filters.isEmpty { return true }
        for filter in rule.pointee.filters where filter.logSource.applies(to: event.logSource) {
            if !filter.condition.evaluate(filter.searches, event) { return false }
        }
        return true
    }

    /// Titles of the filters attached to the rule (for `secmon rules list`).
    public var filterTitles: [String] { filters.map(\.title) }
}

/// A Sigma filter document, compiled: its condition is ANDed with each rule it names
/// (pySigma's semantics; write `condition: not selection` to exclude what `selection` describes).
struct CompiledFilter: Sendable {
    let title: String
    let logSource: LogSource
    let searches: [SearchIdentifier]
    let condition: ConditionExpression
    /// The filter document's ``RuleInfo/fingerprint``.
    let fingerprint: UInt64
}

/// A compiled Sigma correlation rule.
public struct CorrelationRule: Sendable {
    public let info: RuleInfo
    public let type: CorrelationType
    public let timespan: Timespan
    /// `nil` for `temporal`/`temporal_ordered` without a condition (all rules must match).
    public let condition: CorrelationCondition?
    /// Group-by names (alias names where aliases are defined).
    public let groupBy: [String]
    public let valueField: String?
    /// Whether the rules this correlation references also raise their own alerts.
    public let generate: Bool
    /// The referenced rules, as node indices (detections first, then correlations).
    let sources: [Int]
    /// References as written, for listings.
    public let references: [String]
    /// For each source position: per group-by field, the index in that source's carried values.
    var groupIndices: [[Int?]] = []
    /// For each source position: the index of `valueField` in that source's carried values.
    var valueIndices: [Int?] = []
}
