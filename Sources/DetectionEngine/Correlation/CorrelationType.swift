/// The seven Sigma correlation types.
public enum CorrelationType: String, CaseIterable, Sendable {
    case eventCount = "event_count"
    case valueCount = "value_count"
    case temporal
    case temporalOrdered = "temporal_ordered"
    case valueSum = "value_sum"
    case valueAvg = "value_avg"
    case valuePercentile = "value_percentile"

    /// Whether the condition tests a `field`'s values rather than the number of events.
    var needsField: Bool {
        switch self {
        case .valueCount, .valueSum, .valueAvg, .valuePercentile: return true
        case .eventCount, .temporal, .temporalOrdered: return false
        }
    }

    /// Whether the condition tests the field's values as numbers (sum, average, percentile).
    var needsNumber: Bool {
        switch self {
        case .valueSum, .valueAvg, .valuePercentile: return true
        case .eventCount, .valueCount, .temporal, .temporalOrdered: return false
        }
    }
}

/// A correlation `condition`: one or two comparisons (two form a range), all of which must hold.
public struct CorrelationCondition: Sendable, Hashable, CustomStringConvertible {
    public var comparisons: [Comparison]

    public struct Comparison: Sendable, Hashable {
        public var op: ComparisonOperator
        public var bound: Double
    }

    /// Whether `value` satisfies every comparison.
    public func holds(_ value: Double) -> Bool {
        for comparison in comparisons where !comparison.op.holds(value, comparison.bound) { return false }
        return true
    }

    public var description: String {
        comparisons.map { c in
            let bound = c.bound.rounded() == c.bound ? String(Int64(c.bound)) : String(c.bound)
            return "\(c.op.rawValue) \(bound)"
        }.joined(separator: " and ")
    }
}
