import SecurityModel

/// What the engine's hot path needs about one correlation. The engine keeps these in an array and
/// reads the plain fields in place, so a hit costs no reference counting for its rule.
struct CorrelationPlan: Sendable {
    /// How one node feeds this correlation.
    struct Source: Sendable {
        /// Bit `k` is set when the node is the correlation's `k`-th rule (0: not a source).
        var positions: UInt64 = 0
        /// Carried-value indices of the first two group-by fields (-1: the node lacks the field).
        var group0: Int32 = -1
        var group1: Int32 = -1
        /// Carried-value index of the aggregated field (-1: none).
        var value: Int32 = -1
    }

    /// The part of the plan that ``CountGroup`` and ``SequenceGroup`` observations read.
    struct Window: Sendable {
        let type: CorrelationType
        let span: Int64
        let condition: Condition
        let stepCount: Int
        /// Most entries a count or value window holds (``DetectionEngine/Limits/maxWindowEntries``).
        var maxEntries = Int.max
    }

    /// A correlation condition as up to two plain comparisons (`nil` condition: always true).
    struct Condition: Sendable {
        let count: Int
        let op0: ComparisonOperator
        let bound0: Double
        let op1: ComparisonOperator
        let bound1: Double

        init(_ condition: CorrelationCondition?) {
            let comparisons = condition?.comparisons ?? []
            precondition(comparisons.count <= 2, "a correlation condition has at most two comparisons")
            count = comparisons.count
            op0 = comparisons.first?.op ?? .gte
            bound0 = comparisons.first?.bound ?? 0
            op1 = comparisons.count > 1 ? comparisons[1].op : .gte
            bound1 = comparisons.count > 1 ? comparisons[1].bound : 0
        }

        /// Whether a condition was given.
        var isPresent: Bool { count > 0 }

        @inline(__always)
        func holds(_ value: Double) -> Bool {
            if count > 0, !op0.holds(value, bound0) { return false }
            if count > 1, !op1.holds(value, bound1) { return false }
            return true
        }
    }

    let node: Int
    let info: RuleInfo
    let window: Window
    let groupBy: [String]
    /// Per node.
    let sources: [Source]
    /// Per node, all carried-value indices of the group-by fields (used for three or more fields).
    let groupIndices: [[Int?]]
    let parents: [Int]
    let emitsAlerts: Bool

    init(_ rule: CorrelationRule, index: Int, rules: RuleSet, maxWindowEntries: Int = .max) {
        node = rules.detections.count + index
        info = rule.info
        let temporal = rule.type == .temporal || rule.type == .temporalOrdered
        precondition(rule.sources.count <= 64, "a correlation references at most 64 rules (the loader checks)")
        window = Window(type: rule.type, span: rule.timespan.microseconds, condition: Condition(rule.condition),
                        stepCount: temporal ? rule.sources.count : 0, maxEntries: maxWindowEntries)
        groupBy = rule.groupBy
        let nodeCount = rules.count
        var sources = Array(repeating: Source(), count: nodeCount)
        var groupIndices = Array(repeating: [Int?](), count: nodeCount)
        for (position, source) in rule.sources.enumerated() {
            if sources[source].positions == 0 {
                let indices = rule.groupIndices[position]
                groupIndices[source] = indices
                sources[source].group0 = indices.count > 0 ? Int32(indices[0] ?? -1) : -1
                sources[source].group1 = indices.count > 1 ? Int32(indices[1] ?? -1) : -1
                sources[source].value = Int32(rule.valueIndices[position] ?? -1)
            }
            sources[source].positions |= 1 << UInt64(position)
        }
        self.sources = sources
        self.groupIndices = groupIndices
        parents = rules.parents[node]
        emitsAlerts = rules.emitsAlerts[node]
    }
}

/// Per-node facts the engine reads for every hit, flattened into plain arrays.
struct NodeTable: Sendable {
    /// Whether a node's matches raise alerts of their own.
    let emitsAlerts: [Bool]
    /// `parents[parentStart[n]..<parentStart[n + 1]]` are node `n`'s parent correlations.
    let parentStart: [Int]
    let parents: [Int]
    /// `carriedSlots[carriedStart[n]..<carriedStart[n + 1]]` are detection node `n`'s carried slots.
    let carriedStart: [Int]
    let carriedSlots: [Int]
    /// `watchers[watcherStart[n]..<watcherStart[n + 1]]` are detection node `n`'s baselines.
    let watcherStart: [Int]
    let watchers: [Int]

    init(rules: RuleSet) {
        var watcherStart = [0], watchers: [Int] = []
        for node in 0..<rules.detections.count {
            watchers += node < rules.watchers.count ? rules.watchers[node] : []
            watcherStart.append(watchers.count)
        }
        self.watcherStart = watcherStart
        self.watchers = watchers
        emitsAlerts = rules.emitsAlerts
        var parentStart = [0], parents: [Int] = []
        for node in 0..<rules.count {
            parents += rules.parents[node]
            parentStart.append(parents.count)
        }
        var carriedStart = [0], carried: [Int] = []
        for node in 0..<rules.detections.count {
            carried += rules.carriedSlots[node]
            carriedStart.append(carried.count)
        }
        self.parentStart = parentStart
        self.parents = parents
        self.carriedStart = carriedStart
        self.carriedSlots = carried
    }
}
