import SecurityModel

/// Response metrics over incidents: mean time to acknowledge (MTTA: opened → first taken up) and to
/// resolve (MTTR: opened → resolved or closed), overall and by severity, and how old the open
/// incidents are.
public struct IncidentMetrics: Sendable, Hashable {
    /// The facts about one incident that the metrics need.
    public struct Sample: Sendable, Hashable {
        public var severity: IncidentSeverity
        public var status: IncidentStatus
        public var created: Timestamp
        public var acknowledged: Timestamp?
        public var resolved: Timestamp?
        /// Merged into another incident: not counted (its alerts count in the other).
        public var merged: Bool

        public init(severity: IncidentSeverity, status: IncidentStatus, created: Timestamp, acknowledged: Timestamp?,
                    resolved: Timestamp?, merged: Bool = false) {
            self.severity = severity
            self.status = status
            self.created = created
            self.acknowledged = acknowledged
            self.resolved = resolved
            self.merged = merged
        }
    }

    /// Mean durations in seconds for one slice (nil: nothing to average).
    public struct Means: Sendable, Hashable {
        public var acknowledgeSeconds: Double?
        public var resolveSeconds: Double?
        public var acknowledged: Int
        public var resolved: Int
    }

    /// The age brackets of open incidents.
    public static let ageBrackets: [(label: String, upToSeconds: Int64?)] = [
        ("under 1 hour", 3600), ("1 to 24 hours", 86_400), ("1 to 7 days", 604_800), ("over 7 days", nil),
    ]

    public var overall: Means
    /// Keyed by severity, every severity present.
    public var bySeverity: [IncidentSeverity: Means]
    /// Open incidents per age bracket, in ``ageBrackets`` order.
    public var openByAge: [Int]
    public var open: Int

    public init(_ samples: [Sample], now: Timestamp) {
        func means(_ slice: [Sample]) -> Means {
            var ackTotal = 0.0, ackCount = 0, resTotal = 0.0, resCount = 0
            for sample in slice {
                if let ack = sample.acknowledged {
                    ackTotal += Double(max(0, ack.microseconds &- sample.created.microseconds)) / 1_000_000
                    ackCount += 1
                }
                if let resolved = sample.resolved {
                    resTotal += Double(max(0, resolved.microseconds &- sample.created.microseconds)) / 1_000_000
                    resCount += 1
                }
            }
            return Means(acknowledgeSeconds: ackCount > 0 ? ackTotal / Double(ackCount) : nil,
                         resolveSeconds: resCount > 0 ? resTotal / Double(resCount) : nil,
                         acknowledged: ackCount, resolved: resCount)
        }
        let counted = samples.filter { !$0.merged }
        overall = means(counted)
        var bySeverity: [IncidentSeverity: Means] = [:]
        for severity in IncidentSeverity.allCases {
            bySeverity[severity] = means(counted.filter { $0.severity == severity })
        }
        self.bySeverity = bySeverity
        var ages = [Int](repeating: 0, count: Self.ageBrackets.count)
        var open = 0
        for sample in counted where sample.status.isOpen {
            open += 1
            let age = max(0, now.microseconds &- sample.created.microseconds) / 1_000_000
            let bracket = Self.ageBrackets.firstIndex { $0.upToSeconds.map { age < $0 } ?? true } ?? (Self.ageBrackets.count - 1)
            ages[bracket] += 1
        }
        openByAge = ages
        self.open = open
    }

    /// `42 s`, `3.5 min`, `2.1 h`, `1.5 d`, or `-` for nothing measured.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        if seconds < 60 { return "\(Int(seconds.rounded())) s" }
        if seconds < 3600 { return one(seconds / 60) + " min" }
        if seconds < 86_400 { return one(seconds / 3600) + " h" }
        return one(seconds / 86_400) + " d"
    }

    private static func one(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
