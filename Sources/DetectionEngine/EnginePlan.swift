import SecurityModel

/// What the engine's hot path needs about one correlation, gathered once in a class so that each
/// use costs one reference instead of copying a rule with all its strings.
final class CorrelationPlan: Sendable {
    let index: Int
    let node: Int
    let info: RuleInfo
    let type: CorrelationType
    let span: Int64
    let condition: CorrelationCondition?
    let groupBy: [String]
    let stepCount: Int
    /// Per node: the positions it takes in `rules` (empty when it is not a source).
    let positions: [[Int]]
    /// Per node: indices into its carried values for the group-by fields (first position).
    let groupIndices: [[Int?]]
    /// Per node: index into its carried values for the value field.
    let valueIndices: [Int?]
    let parents: [Int]
    let emitsAlerts: Bool

    init(_ rule: CorrelationRule, index: Int, rules: RuleSet) {
        self.index = index
        node = rules.detections.count + index
        info = rule.info
        type = rule.type
        span = rule.timespan.microseconds
        condition = rule.condition
        groupBy = rule.groupBy
        stepCount = (rule.type == .temporal || rule.type == .temporalOrdered) ? rule.sources.count : 0
        let nodeCount = rules.count
        var positions = Array(repeating: [Int](), count: nodeCount)
        var groupIndices = Array(repeating: [Int?](), count: nodeCount)
        var valueIndices = Array(repeating: Int?.none, count: nodeCount)
        for (position, source) in rule.sources.enumerated() {
            if positions[source].isEmpty {
                groupIndices[source] = rule.groupIndices[position]
                valueIndices[source] = rule.valueIndices[position]
            }
            positions[source].append(position)
        }
        self.positions = positions
        self.groupIndices = groupIndices
        self.valueIndices = valueIndices
        parents = rules.parents[node]
        emitsAlerts = rules.emitsAlerts[node]
    }
}

/// What the engine needs about one detection rule when it matches.
final class DetectionPlan: Sendable {
    let node: Int
    let carriedSlots: [Int]
    let parents: [Int]
    let emitsAlerts: Bool

    init(node: Int, rules: RuleSet) {
        self.node = node
        carriedSlots = rules.carriedSlots[node]
        parents = rules.parents[node]
        emitsAlerts = rules.emitsAlerts[node]
    }
}
