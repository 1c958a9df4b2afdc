import SecurityModel

/// Everything loaded from a rule directory, compiled and cross-referenced: what the engine runs.
///
/// Rules form a graph of nodes: detection rules first (`0..<detections.count`), then correlations.
/// A node's hits flow to the correlations that reference it (its parents).
public struct RuleSet: Sendable {
    public internal(set) var detections: [DetectionRule] = []
    public internal(set) var correlations: [CorrelationRule] = []
    /// The fields the rules read; decoders fill exactly these slots.
    public internal(set) var fields = FieldTable()
    /// Correlation indices that reference each node.
    var parents: [[Int]] = []
    /// Whether a node's matches become alerts of their own.
    var emitsAlerts: [Bool] = []
    /// For each node, the field names its hits carry to parent correlations.
    var carried: [[String]] = []
    /// For detection nodes, the slots of the carried fields.
    var carriedSlots: [[Int]] = []

    public init() {}

    /// Whether some rule searches keywords in the raw line (decoders then keep the line).
    public var needsRawLine: Bool { detections.contains { $0.usesKeywords } }

    /// Number of detection plus correlation rules.
    public var count: Int { detections.count + correlations.count }

    /// The metadata of node `index`.
    public func info(ofNode index: Int) -> RuleInfo {
        index < detections.count ? detections[index].info : correlations[index - detections.count].info
    }

    /// The fields that rules applying to `stream` read (decoders for that stream extract only these).
    public func fieldNames(for stream: LogSource) -> Set<String> {
        var slots = Set<Int>()
        for (index, rule) in detections.enumerated() where rule.logSource.applies(to: stream) {
            for search in rule.searches + rule.filters.flatMap(\.searches) { search.collectSlots(into: &slots) }
            slots.formUnion(carriedSlots[index])
        }
        return Set(slots.map { fields.names[$0] })
    }

    /// Whether node `index` raises alerts of its own.
    public func raisesAlerts(node index: Int) -> Bool { emitsAlerts[index] }
}
