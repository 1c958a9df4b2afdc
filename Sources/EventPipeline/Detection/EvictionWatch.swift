import DetectionEngine
import SecurityModel

/// Turns the engine's evictions into something an analyst sees: a meta-alert per correlation whose
/// groups were evicted at the cap, open while evictions go on and closed five minutes after the
/// last. Someone who floods distinct keys to push a real attacker's window out of memory is
/// itself detected.
struct EvictionWatch {
    private struct Episode {
        var id: String
        var first: Timestamp
        var last: Timestamp
        var count: Int
    }

    /// The cap on groups per correlation, for the alert's title.
    let maxGroups: Int
    /// Evictions so far, by correlation label (over every rule set this stage ran).
    private(set) var totals: [String: Int] = [:]
    private var seen: [Int] = []
    private var open: [String: Episode] = [:]
    private var now = Timestamp(microseconds: 0)

    init(maxGroups: Int) { self.maxGroups = maxGroups }

    /// The time is now `time` (the newest event or tick).
    mutating func observe(time: Timestamp) {
        if time > now { now = time }
    }

    /// The meta-alert updates since the last call: opened or extended for correlations that
    /// evicted, closed for those quiet for ``DetectionStage/evictionQuietSeconds``.
    mutating func update(_ engine: DetectionEngine, node: String) -> [SecurityAlert] {
        var out: [SecurityAlert] = []
        // Correlations, then baselines: both keep groups under the same cap.
        let counts = engine.evictionsByCorrelation + engine.evictionsByBaseline
        if seen.count != counts.count { seen = Array(repeating: 0, count: counts.count) }
        let correlations = engine.rules.correlations.count
        for (c, count) in counts.enumerated() where count > seen[c] {
            let label = c < correlations ? engine.rules.correlations[c].info.label : engine.rules.baselines[c - correlations].info.label
            let added = count - seen[c]
            seen[c] = count
            totals[label, default: 0] += added
            var episode = open[label] ?? Episode(id: EventID.make(at: now), first: now, last: now, count: 0)
            episode.last = now
            episode.count += added
            open[label] = episode
            out.append(alert(label, episode, .open, node))
        }
        for (label, episode) in open where now.microseconds - episode.last.microseconds > DetectionStage.evictionQuietSeconds * 1_000_000 {
            open[label] = nil
            out.append(alert(label, episode, .closed, node))
        }
        return out
    }

    /// The engine is replaced (a reload): its per-correlation counts start again.
    mutating func rulesChanged() {
        seen = []
    }

    /// Closes every open meta-alert (the stage is stopping).
    mutating func closeAll(node: String) -> [SecurityAlert] {
        defer { open.removeAll() }
        return open.map { alert($0.key, $0.value, .closed, node) }
    }

    private func alert(_ label: String, _ episode: Episode, _ status: SecurityAlert.Status, _ node: String) -> SecurityAlert {
        SecurityAlert(
            id: episode.id, rule: DetectionStage.evictionRule,
            title: "Detection state evicted for \(label) (cap: \(maxGroups) groups): many distinct keys, possibly a flood hiding an attack",
            level: .high, group: [.init(field: "rule", value: label)], entities: [],
            firstTime: episode.first, lastTime: episode.last, eventCount: episode.count, evidence: [], status: status, node: node)
    }
}
