import Foundation
import SecurityModel

/// What the engine needs of a baseline rule for every hit: its node, its kind's numbers, and how
/// each watched rule's carried values make the group key.
struct BaselinePlan: Sendable {
    struct Source: Sendable {
        var watched = false
        var group0: Int32 = -1
        var group1: Int32 = -1
        /// Where the kind's value field is (first_seen), or -1.
        var value: Int32 = -1
    }

    let node: Int
    let info: RuleInfo
    let kind: BaselineRule.Kind
    /// The timespan in microseconds: the longest gap that keeps a group's history.
    let span: Int64
    let groupBy: [String]
    /// By node: whether the baseline watches it, and where its group-by values are.
    let sources: [Source]
    let groupIndices: [[Int?]]

    init(_ rule: BaselineRule, index: Int, rules: RuleSet) {
        node = rules.detections.count + rules.correlations.count + index
        info = rule.info
        kind = rule.kind
        span = rule.timespan.microseconds
        groupBy = rule.groupBy
        var sources = Array(repeating: Source(), count: rules.count)
        var groupIndices = Array(repeating: [Int?](), count: rules.count)
        for (position, source) in rule.sources.enumerated() where !sources[source].watched {
            let indices = rule.groupIndices[position]
            groupIndices[source] = indices
            sources[source] = Source(watched: true, group0: indices.count > 0 ? Int32(indices[0] ?? -1) : -1,
                                     group1: indices.count > 1 ? Int32(indices[1] ?? -1) : -1,
                                     value: Int32(rule.valueIndices[position] ?? -1))
        }
        self.sources = sources
        self.groupIndices = groupIndices
    }

    /// The numbers behind a regular stretch, in words: what the alert says.
    static func explainRegularity(_ verdict: RegularityHistory.Verdict, history: RegularityHistory, rule: BaselineRule.Kind) -> String {
        guard case .regularity(let repetitions, let maxVariation, _) = rule else { return "" }
        let variation = verdict.mean > 0 ? verdict.deviation / verdict.mean : 0
        return "\(history.stretchCount) occurrences at regular intervals since \(Timestamp(microseconds: history.stretchStart).iso8601)Z; "
            + "the last \(repetitions): mean gap \(seconds(verdict.mean)), standard deviation \(seconds(verdict.deviation)), "
            + "variation \(percent(variation)) (at most \(percent(maxVariation)) counts as machine-regular)"
    }

    /// A first-seen value, in words: the value, the group's other values, since when it is known.
    static func explainFirstSeen(value: String, field: String, others: [String], otherCount: Int, history: FirstSeenHistory, learning: Int64) -> String {
        let period = Timespan.text(microseconds: learning)
        let known = otherCount == 0
            ? "no other value"
            : "\(otherCount) other value\(otherCount == 1 ? "" : "s"): " + others.joined(separator: ", ") + (otherCount > others.count ? ", ..." : "")
        return "new \(field) \(value): not seen in the \(period) before; the group, watched since "
            + "\(Timestamp(microseconds: history.firstTime).iso8601)Z, had \(known)"
    }

    /// A rate over the baseline, in words: the count, the threshold and how it was made.
    static func explainRate(_ state: RateHistory, span: Int64, deviations: Double) -> String {
        let madUsed = max(state.mad, 1)
        let above = (Double(state.count) - state.median) / madUsed
        return "\(state.count) events in the \(Timespan.text(microseconds: span)) from \(Timestamp(microseconds: state.bucket * span).iso8601)Z; "
            + "over the \(state.counts.count) before: median \(number(state.median)), median absolute deviation \(number(state.mad)); "
            + "threshold \(number(state.threshold ?? 0)) (median + \(number(deviations)) × \(number(madUsed))): \(String(format: "%.1f", above)) deviations above the median"
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value ? String(Int64(value)) : String(format: "%.1f", value)
    }

    private static func seconds(_ microseconds: Double) -> String {
        String(format: "%.2f s", microseconds / 1_000_000)
    }

    private static func percent(_ fraction: Double) -> String {
        String(format: "%.1f %%", fraction * 100)
    }
}
