import SecurityModel

/// Everything loaded from a rule directory, compiled and cross-referenced: what the engine runs.
///
/// Rules form a graph of nodes: detection rules first (`0..<detections.count`), then correlations,
/// then baselines. A node's hits flow to the correlations that reference it (its parents), and a
/// detection's to the baselines that watch it.
public struct RuleSet: Sendable {
    public internal(set) var detections: [DetectionRule] = []
    public internal(set) var correlations: [CorrelationRule] = []
    public internal(set) var baselines: [BaselineRule] = []
    /// Baseline indices that watch each detection node.
    var watchers: [[Int]] = []
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
    /// Per node: a hash of everything its matches depend on (its document, its filters', and for a
    /// correlation its sources', recursively). Equal across two loads when the node would keep
    /// exactly the same state.
    public internal(set) var stateFingerprints: [UInt64] = []

    /// The placeholders rules and filters `expand`, each with the labels of the rules and filters that use it.
    public internal(set) var placeholders: [String: [String]] = [:]

    public init() {}

    /// Whether some rule searches keywords in the raw line (decoders then keep the line).
    public var needsRawLine: Bool { detections.contains { $0.usesKeywords } }

    /// Number of detection, correlation and baseline rules (nodes).
    public var count: Int { detections.count + correlations.count + baselines.count }

    /// The metadata of node `index`.
    public func info(ofNode index: Int) -> RuleInfo {
        if index < detections.count { return detections[index].info }
        if index < detections.count + correlations.count { return correlations[index - detections.count].info }
        return baselines[index - detections.count - correlations.count].info
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

    /// Fills ``stateFingerprints`` (sources come before the correlations that use them).
    mutating func computeStateFingerprints() {
        func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
            var x = a ^ (b &+ 0x9E37_79B9_7F4A_7C15 &+ (a << 6) &+ (a >> 2))
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        var prints: [UInt64] = []
        prints.reserveCapacity(count)
        for rule in detections {
            var print = mix(1, rule.info.fingerprint)
            for filter in rule.filters.map(\.fingerprint).sorted() { print = mix(print, filter) }
            prints.append(print)
        }
        for correlation in correlations {
            var print = mix(2, correlation.info.fingerprint)
            for source in correlation.sources { print = mix(print, source < prints.count ? prints[source] : 0) }
            prints.append(print)
        }
        for baseline in baselines {
            var print = mix(3, baseline.info.fingerprint)
            for source in baseline.sources { print = mix(print, source < prints.count ? prints[source] : 0) }
            prints.append(print)
        }
        stateFingerprints = prints
    }

    /// Whether node `index` raises alerts of its own.
    public func raisesAlerts(node index: Int) -> Bool { emitsAlerts[index] }
}
