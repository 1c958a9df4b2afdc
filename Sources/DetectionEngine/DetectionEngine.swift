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
    private var groups: [[GroupKey: CorrelationGroup]]
    private var lastSweep: [Int64]
    private var open: [Int: Alert] = [:]
    private var updates: [AlertUpdate] = []
    private var indexes: [LogSource: RuleIndex] = [:]
    private var lastIndex: RuleIndex?
    private var sequence = 0
    /// For each correlation and each of its source nodes, the positions that node takes.
    private let positions: [[Int: [Int]]]
    private var matched: [Int] = []

    /// - Parameters:
    ///   - rules: a compiled rule set.
    ///   - latenessSeconds: how far out of time order an event may arrive and still be correlated.
    public init(rules: RuleSet, latenessSeconds: Double = 5) {
        self.rules = rules
        self.buffer = ReorderBuffer(latenessMicroseconds: Int64((latenessSeconds * 1_000_000).rounded()))
        self.groups = Array(repeating: [:], count: rules.correlations.count)
        self.lastSweep = Array(repeating: .min, count: rules.correlations.count)
        self.positions = rules.correlations.map { correlation in
            var table: [Int: [Int]] = [:]
            for (position, node) in correlation.sources.enumerated() { table[node, default: []].append(position) }
            return table
        }
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
        index.forEachMatch(rules, event) { matched.append($0) }
        guard !matched.isEmpty else { return }
        for node in matched {
            statistics.matches += 1
            sequence += 1
            let slots = rules.carriedSlots[node]
            var values: [FieldValue?] = []
            if !slots.isEmpty {
                values.reserveCapacity(slots.count)
                for slot in slots { values.append(event[slot]) }
            }
            let hit = RuleHit(timestamp: event.timestamp, node: node, ref: event.ref, moreRefs: [], values: values, sequence: sequence)
            if !buffer.insert(hit) {
                statistics.late += 1
                if statistics.lateEvents.count < 100 { statistics.lateEvents.append(event.ref) }
                // Single-event alerts do not depend on order; correlations skip the late event.
                if rules.emitsAlerts[node] { raiseSingle(hit) }
            }
        }
        while let hit = buffer.next() { run(hit) }
    }

    /// Ends the input: releases buffered events and closes every open alert.
    public mutating func finish() {
        while let hit = buffer.next(flushing: true) { run(hit) }
        for correlation in groups.indices {
            for key in groups[correlation].keys {
                if let number = groups[correlation][key]?.openAlert { close(number) }
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

    /// Alerts open now (their condition still holds or their window has not expired).
    public var openAlerts: [Alert] { open.values.sorted { $0.number < $1.number } }

    // MARK: - Internals

    private mutating func run(_ hit: RuleHit) {
        let node = hit.node
        if node < rules.detections.count, rules.emitsAlerts[node] { raiseSingle(hit) }
        for correlation in rules.parents[node] { correlate(hit, correlation) }
        sweepIfDue(hit.timestamp.microseconds)
    }

    private mutating func raiseSingle(_ hit: RuleHit) {
        statistics.alerts += 1
        let alert = Alert(number: statistics.alerts, node: hit.node, rule: rules.info(ofNode: hit.node), group: [],
                          firstTime: hit.timestamp, lastTime: hit.timestamp, eventCount: 1 + hit.moreRefs.count, events: hit.refs)
        updates.append(.opened(alert))
        updates.append(.closed(alert))
    }

    private mutating func correlate(_ hit: RuleHit, _ correlationIndex: Int) {
        let rule = rules.correlations[correlationIndex]
        guard let nodePositions = positions[correlationIndex][hit.node] else { return }
        let first = nodePositions[0]
        let keyIndices = rule.groupIndices[first]
        var keyValues: [FieldValue?] = []
        keyValues.reserveCapacity(keyIndices.count)
        for index in keyIndices {
            // An event without a group-by field belongs to no group (as in SQL/Splunk 'by' clauses
            // that drop nulls): it is not correlated by this rule.
            guard let value = index.flatMap({ hit.values[$0] }), value != .null else {
                statistics.ungrouped += 1
                return
            }
            keyValues.append(value)
        }
        let key = GroupKey(values: keyValues)
        let value = rule.valueIndices[first].flatMap { hit.values[$0] }
        let now = hit.timestamp.microseconds
        let stepCount = (rule.type == .temporal || rule.type == .temporalOrdered) ? rule.sources.count : 0

        // An alert whose window emptied while its key was quiet has ended.
        if let existing = groups[correlationIndex][key], let number = existing.openAlert,
           existing.lastTime < now - rule.timespan.microseconds {
            close(number)
            groups[correlationIndex][key]?.openAlert = nil
        }
        let outcome = groups[correlationIndex][key, default: CorrelationGroup(stepCount: stepCount)]
            .observe(hit, value: value, positions: nodePositions, rule: rule)
        let openNumber = groups[correlationIndex][key]?.openAlert
        if outcome.holds {
            if let number = openNumber {
                if number >= 0 {
                    open[number]!.lastTime = hit.timestamp
                    open[number]!.holdCount += 1
                    open[number]!.eventCount += outcome.eventRefs.count
                    open[number]!.addEvidence(outcome.eventRefs)
                }
            } else {
                statistics.alerts += 1
                let number = statistics.alerts
                let node = rules.detections.count + correlationIndex
                let group = zip(rule.groupBy, keyValues).map { Alert.GroupValue(field: $0, value: $1?.text) }
                var alert = Alert(number: number, node: node, rule: rule.info, group: group,
                                  firstTime: Timestamp(microseconds: outcome.openingTime), lastTime: hit.timestamp,
                                  eventCount: outcome.openingRefs.count, events: [])
                alert.addEvidence(outcome.openingRefs)
                if rules.emitsAlerts[node] {
                    open[number] = alert
                    updates.append(.opened(alert))
                    groups[correlationIndex][key]?.openAlert = number
                } else {
                    // Intermediate correlation in a chain: tracks its episode without an alert.
                    statistics.alerts -= 1
                    groups[correlationIndex][key]?.openAlert = -1
                }
            }
            // Chaining: a correlation that holds is an event for the correlations that reference it.
            let node = rules.detections.count + correlationIndex
            if !rules.parents[node].isEmpty {
                sequence += 1
                let refs = outcome.eventRefs
                let derived = RuleHit(timestamp: hit.timestamp, node: node, ref: refs.first ?? hit.ref,
                                      moreRefs: Array(refs.dropFirst()), values: keyValues, sequence: sequence)
                for parent in rules.parents[node] { correlate(derived, parent) }
            }
        } else if let number = openNumber {
            close(number)
            groups[correlationIndex][key]?.openAlert = nil
        }
    }

    private mutating func close(_ number: Int) {
        guard number >= 0, let alert = open.removeValue(forKey: number) else { return }
        updates.append(.closed(alert))
    }

    /// Evicts expired groups of each correlation once per its timespan of event time.
    private mutating func sweepIfDue(_ now: Int64) {
        var live = 0
        for index in rules.correlations.indices {
            let span = rules.correlations[index].timespan.microseconds
            if lastSweep[index] == .min { lastSweep[index] = now }
            if now - lastSweep[index] >= max(span, 1_000_000) {
                lastSweep[index] = now
                let oldest = now - span
                let type = rules.correlations[index].type
                var kept: [GroupKey: CorrelationGroup] = [:]
                kept.reserveCapacity(groups[index].count / 2)
                for (key, var group) in groups[index] {
                    if group.lastTime < oldest {
                        if let number = group.openAlert { close(number) }
                        continue
                    }
                    group.expire(before: oldest, type: type)
                    kept[key] = group
                }
                groups[index] = kept
            }
            live += groups[index].count
        }
        statistics.liveGroups = live
    }
}
