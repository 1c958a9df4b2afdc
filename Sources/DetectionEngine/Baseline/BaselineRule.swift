/// A compiled baseline rule (SecMon's own rule type, in `bl_*.yml` files beside the Sigma rules):
/// it watches the matches of detection rules, per group, against the group's own history rather
/// than a fixed threshold.
///
/// Like a correlation it names the rules it watches (`rules:`), groups by fields (`group-by:`),
/// and raises one alert per episode (while it keeps holding for a group, new events extend the
/// open alert).
public struct BaselineRule: Sendable {
    /// What is compared with the group's history.
    public enum Kind: Sendable, Hashable {
        /// The same action repeated at machine-regular intervals: at least `repetitions`
        /// occurrences in a row whose gaps vary (standard deviation over mean) by at most
        /// `maxVariation`, no gap shorter than `minInterval` nor longer than the timespan.
        case regularity(repetitions: Int, maxVariation: Double, minInterval: Int64)
        /// A value of `field` the group has not had in the `learning` period before (microseconds),
        /// once the group has been seen for that long: a user logging in from a new address, an
        /// address calling an endpoint it never called (Elastic's new-terms rules). New values
        /// within the timespan of an alert extend it.
        case firstSeen(learning: Int64, field: String)
        /// A group's events per timespan (a bucket) above its own recent buckets: more than
        /// median + `deviations` × MAD of the `history` buckets before (silent ones count 0, MAD at
        /// least 1), and at least `minCount`, once the group has `minHistory` buckets of history.
        case rate(history: Int, minHistory: Int, deviations: Double, minCount: Int)

        /// The name used in rule files.
        public var name: String {
            switch self {
            case .regularity: return "regularity"
            case .firstSeen: return "first_seen"
            case .rate: return "rate"
            }
        }

        /// The field whose values the rule compares, if any.
        var valueField: String? {
            if case .firstSeen(_, let field) = self { return field }
            return nil
        }
    }

    public let info: RuleInfo
    public let kind: Kind
    /// The longest gap between two events of a group that keeps its history going; a group idle
    /// for longer is forgotten (and its open alert closes).
    public let timespan: Timespan
    public let groupBy: [String]
    /// Whether the rules it watches also raise their own alerts.
    public let generate: Bool
    /// The watched detection rules, as node indices.
    let sources: [Int]
    /// References as written, for listings.
    public let references: [String]
    /// For each source position: per group-by field, the index in that source's carried values.
    var groupIndices: [[Int?]] = []
    /// For each source position: the index of the kind's value field in its carried values.
    var valueIndices: [Int?] = []

    /// What it watches and how, on one line: `regularity(secmon_api_request) by ip_address within
    /// 10m: 20 in a row, variation <= 0.1, gaps >= 2s`.
    public var summary: String {
        let by = groupBy.isEmpty ? "-" : groupBy.joined(separator: ",")
        switch kind {
        case .regularity(let repetitions, let maxVariation, let minInterval):
            let shortest = minInterval % 1_000_000 == 0 ? "\(minInterval / 1_000_000)s" : "\(Double(minInterval) / 1_000_000)s"
            return "regularity(\(references.joined(separator: ", "))) by \(by) within \(timespan): \(repetitions) in a row, variation <= \(maxVariation), gaps >= \(shortest)"
        case .firstSeen(let learning, let field):
            return "first_seen(\(references.joined(separator: ", "))) \(field) by \(by) learning \(Timespan.text(microseconds: learning)), alerts within \(timespan)"
        case .rate(let history, let minHistory, let deviations, let minCount):
            return "rate(\(references.joined(separator: ", "))) by \(by) per \(timespan): over median + \(deviations) MAD of \(history) buckets (after \(minHistory)), at least \(minCount)"
        }
    }

    init(info: RuleInfo, kind: Kind, timespan: Timespan, groupBy: [String], generate: Bool, sources: [Int], references: [String]) {
        self.info = info
        self.kind = kind
        self.timespan = timespan
        self.groupBy = groupBy
        self.generate = generate
        self.sources = sources
        self.references = references
    }
}
