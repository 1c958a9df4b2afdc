import DetectionEngine
import LogFormats
import SecurityModel

/// Everything a batch analysis found: per-input counts, rejected lines (with reasons), alerts.
public struct AnalysisReport: Sendable {
    public struct InputSummary: Sendable, Hashable {
        public var name: String
        public var format: LogFormat?
        public var lines: Int64 = 0
        public var bytes: Int64 = 0
        public var events: Int64 = 0
        public var rejected: Int64 = 0
        /// Events outside `--since`/`--until`.
        public var outsideRange: Int64 = 0
        /// Set when the input could not be read at all.
        public var failure: String?
    }

    public var inputs: [InputSummary] = []
    /// The first rejected lines (up to ``Analyzer/maxListedRejections``).
    public var rejections: [Rejection] = []
    /// Rejected lines counted by reason (reasons with byte offsets are grouped by their text before " at byte").
    public var rejectionReasons: [String: Int64] = [:]
    public var rulesLoaded = 0
    public var alerts: [Alert] = []
    public var engine = DetectionEngine.Statistics()
    /// How the input's time order was handled, when it was not in order (sorted, or left as it came).
    public var ordering: String?

    public var totalLines: Int64 { inputs.reduce(0) { $0 + $1.lines } }
    public var totalEvents: Int64 { inputs.reduce(0) { $0 + $1.events } }
    public var totalRejected: Int64 { inputs.reduce(0) { $0 + $1.rejected } }
    public var totalBytes: Int64 { inputs.reduce(0) { $0 + $1.bytes } }

    /// Alert counts by level, most severe first.
    public var alertsByLevel: [(Severity, Int)] {
        Severity.allCases.reversed().compactMap { level in
            let count = alerts.filter { $0.level == level }.count
            return count > 0 ? (level, count) : nil
        }
    }

    /// The highest level among the alerts.
    public var highestLevel: Severity? { alerts.map(\.level).max() }
}
