import SecurityModel

/// The detection engine: feed it events in (roughly) time order, get alerts out.
///
/// A value type holding all state, keyed by rule and group-by key. Events are first tested against
/// the detection rules that apply to their stream (through a ``RuleIndex``); matches become hits,
/// which are put back in time order (up to `lateness` out of order) and run through the
/// correlations. Window state that has expired is evicted, so memory is bounded by the keys active
/// within each rule's timespan, not by the length of the input. The engine never reads a clock:
/// live and batch runs over the same events give the same alerts.
public struct DetectionEngine: Sendable {
    /// Counters for the summary.
    public struct Statistics: Sendable, Equatable {
        /// Events processed.
        public var events = 0
        /// Rule matches (an event matching two rules counts twice).
        public var matches = 0
        /// Matches that arrived later than the lateness allows; not correlated, but counted.
        public var late = 0
        /// The first late events, for the report.
        public var lateEvents: [EventRef] = []
        /// Alerts opened so far.
        public var alerts = 0
        /// Rule matches a correlation skipped because they lacked a group-by field.
        public var ungrouped = 0
        /// Group keys holding state now, over all correlations.
        public var liveGroups = 0

        public init() {}
    }

    public let rules: RuleSet
    public private(set) var statistics = Statistics()

    private var buffer: ReorderBuffer
    private var groups: [GroupTable]
    /// Hashes group keys for every table (one random seed per engine).
    private let keyHasher = KeyHasher()
    private var nextSweep: [Int64]
    private var earliestSweep: Int64 = .min
    private var open: [Int: Alert] = [:]
    private var updates: [AlertUpdate] = []
    private var indexes: [LogSource: RuleIndex] = [:]
    private var lastIndex: RuleIndex?
    private let correlationPlans: [CorrelationPlan]
    private let nodes: NodeTable
    private var matched: [Int] = []

    /// - Parameters:
    ///   - rules: a compiled rule set.
    ///   - latenessSeconds: how far out of time order an event may arrive and still be correlated.
    public init(rules: RuleSet, latenessSeconds: Double = 5) {
        self.rules = rules
        self.buffer = ReorderBuffer(latenessMicroseconds: Int64((latenessSeconds * 1_000_000).rounded()))
        self.groups = Array(repeating: GroupTable(), count: rules.correlations.count)
        self.nextSweep = Array(repeating: .min, count: rules.correlations.count)
        self.correlationPlans = rules.correlations.indices.map { CorrelationPlan(rules.correlations[$0], index: $0, rules: rules) }
        self.nodes = NodeTable(rules: rules)
    }

    /// Tests one event against the rules and runs whatever it completes.
    public mutating func process(_ event: EventRecord) {
        statistics.events += 1
        let index: RuleIndex
        if let last = lastIndex, last.logSource == event.logSource {
            index = last
        } else {
            index = indexes[event.logSource] ?? RuleIndex(rules: rules, for: event.logSource)
            indexes[event.logSource] = index
            lastIndex = index
        }
        matched.removeAll(keepingCapacity: true)
        index.forEachMatch(event) { matched.append($0) }
        guard !matched.isEmpty else { return }
        for node in matched {
            statistics.matches += 1
            var values = CarriedValues()
            let first = nodes.carriedStart[node], end = nodes.carriedStart[node + 1]
            if first < end {
                for index in first..<end { values[index - first] = event[nodes.carriedSlots[index]] }
            }
            let hit = RuleHit(timestamp: event.timestamp, node: node, evidence: Evidence(event.ref), values: values)
            if !buffer.insert(hit) {
                statistics.late += 1
                if statistics.lateEvents.count < 100 { statistics.lateEvents.append(event.ref) }
                // Single-event alerts do not depend on order; correlations skip the late event.
                if nodes.emitsAlerts[node] { raiseSingle(hit) }
            }
        }
        while let hit = buffer.next() { run(hit) }
    }

    /// Tells the engine that the time is now `now` even without events (a live feed calls this
    /// periodically): hits older than the lateness are released, and alerts whose window has emptied
    /// are closed.
    public mutating func advance(to now: Timestamp) {
        buffer.observe(time: now.microseconds)
        while let hit = buffer.next() { run(hit) }
        sweep(now.microseconds - buffer.lateness, force: true)
    }

    /// Ends the input: releases buffered events and closes every open alert.
    public mutating func finish() {
        while let hit = buffer.next(flushing: true) { run(hit) }
        for correlation in groups.indices {
            for slot in 0..<groups[correlation].slotCount {
                if let number = groups[correlation][slot].openAlert { close(number) }
            }
            groups[correlation].removeAll()
        }
        statistics.liveGroups = 0
    }

    /// Returns and forgets the updates since the last call, in order.
    public mutating func drainUpdates() -> [AlertUpdate] {
        defer { updates.removeAll(keepingCapacity: true) }
        return updates
    }

    /// Whether ``drainUpdates()`` has something to return.
    public var hasUpdates: Bool { !updates.isEmpty }


    // MARK: - Internals

    private mutating func run(_ hit: RuleHit) {
        if nodes.emitsAlerts[hit.node] { raiseSingle(hit) }
        for index in nodes.parentStart[hit.node]..<nodes.parentStart[hit.node + 1] {
            correlate(hit, nodes.parents[index])
        }
        if hit.timestamp.microseconds >= earliestSweep { sweep(hit.timestamp.microseconds) }
    }

    private mutating func raiseSingle(_ hit: RuleHit) {
        statistics.alerts += 1
        let alert = Alert(number: statistics.alerts, node: hit.node, rule: rules.info(ofNode: hit.node), group: [],
                          firstTime: hit.timestamp, lastTime: hit.timestamp, eventCount: hit.evidence.count, events: Array(hit.evidence))
        updates.append(.opened(alert))
        updates.append(.closed(alert))
    }

    private mutating func correlate(_ hit: RuleHit, _ c: Int) {
        let source = correlationPlans[c].sources[hit.node]
        guard source.positions != 0 else { return }
        let key: GroupKey
        // An event without a group-by field belongs to no group (as in SQL/Splunk 'by' clauses
        // that drop nulls): it is not correlated by this rule.
        switch correlationPlans[c].groupBy.count {
        case 0:
            key = .none
        case 1:
            guard source.group0 >= 0, let value = hit.values[Int(source.group0)], value != .null else {
                statistics.ungrouped += 1
                return
            }
            key = .one(value)
        case 2:
            guard source.group0 >= 0, let v0 = hit.values[Int(source.group0)], v0 != .null,
                  source.group1 >= 0, let v1 = hit.values[Int(source.group1)], v1 != .null else {
                statistics.ungrouped += 1
                return
            }
            key = .two(v0, v1)
        default:
            let keyIndices = correlationPlans[c].groupIndices[hit.node]
            var values: [FieldValue] = []
            values.reserveCapacity(keyIndices.count)
            for index in keyIndices {
                guard let value = index.flatMap({ hit.values[$0] }), value != .null else {
                    statistics.ungrouped += 1
                    return
                }
                values.append(value)
            }
            key = .many(values)
        }
        let value = source.value >= 0 ? hit.values[Int(source.value)] : nil
        let window = correlationPlans[c].window
        let slot = groups[c].slot(for: key, hash: keyHasher.hash(key)) { CorrelationGroup(stepCount: window.stepCount) }
        let outcome = groups[c][slot].observe(time: hit.timestamp.microseconds, evidence: hit.evidence, value: value,
                                              positions: source.positions, rule: window)
        if let expired = outcome.expiredAlert { close(expired) }
        if outcome.holds {
            let eventRefs = outcome.eventRefs.isEmpty ? hit.evidence : outcome.eventRefs
            if let number = outcome.openAlert {
                if number >= 0 { open[number]?.extend(at: hit.timestamp, with: eventRefs) }
            } else if correlationPlans[c].emitsAlerts {
                let plan = correlationPlans[c]
                statistics.alerts += 1
                let number = statistics.alerts
                let group = zip(plan.groupBy, key.values).map { Alert.GroupValue(field: $0, value: $1.text) }
                var alert = Alert(number: number, node: plan.node, rule: plan.info, group: group,
                                  firstTime: Timestamp(microseconds: outcome.openingTime), lastTime: hit.timestamp,
                                  eventCount: 0, events: [])
                if outcome.openingRefs.isEmpty {
                    alert.eventCount = eventRefs.count
                    alert.addEvidence(eventRefs)
                } else {
                    alert.eventCount = outcome.openingCount
                    alert.addEvidence(outcome.openingRefs)
                }
                open[number] = alert
                updates.append(.opened(alert))
                groups[c][slot].openAlert = number
            } else {
                // Intermediate correlation in a chain: tracks its episode without an alert.
                groups[c][slot].openAlert = -1
            }
            // Chaining: a correlation that holds is an event for the correlations that reference it.
            if !correlationPlans[c].parents.isEmpty {
                // When the condition starts holding, the whole window made it hold.
                var refs = eventRefs
                if outcome.openAlert == nil, outcome.openingRefs.count > eventRefs.count {
                    refs = Evidence()
                    for ref in outcome.openingRefs { refs.append(ref) }
                }
                let derived = RuleHit(timestamp: hit.timestamp, node: correlationPlans[c].node, evidence: refs, values: key.carried)
                for parent in correlationPlans[c].parents { correlate(derived, parent) }
            }
        } else if let number = outcome.openAlert {
            close(number)
            groups[c][slot].openAlert = nil
        }
    }

    private mutating func close(_ number: Int) {
        guard number >= 0, let alert = open.removeValue(forKey: number) else { return }
        updates.append(.closed(alert))
    }

    /// Evicts groups whose newest event left the window, once per timespan (at least 2 minutes) of
    /// event time per correlation: memory stays bounded by the keys active in each window.
    private mutating func sweep(_ now: Int64, force: Bool = false) {
        var earliest = Int64.max
        var live = 0
        for c in correlationPlans.indices {
            let span = correlationPlans[c].window.span
            if nextSweep[c] == .min { nextSweep[c] = now + max(span, 120_000_000) }
            if force || now >= nextSweep[c] {
                nextSweep[c] = now + max(span, 120_000_000)
                let oldest = now - span
                for slot in 0..<groups[c].slotCount where groups[c][slot].lastTime < oldest {
                    if let number = groups[c][slot].openAlert { close(number) }
                    groups[c].remove(slot: slot)
                }
                groups[c].compactIfSparse()
            }
            earliest = min(earliest, nextSweep[c])
            live += groups[c].count
        }
        earliestSweep = earliest
        statistics.liveGroups = live
    }
}
