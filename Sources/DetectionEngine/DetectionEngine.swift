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
        /// Distinct carried values (addresses, user names, ...) held as symbols now.
        public var symbols = 0
        /// Groups removed before their window emptied because their correlation held
        /// ``Limits/maxGroupsPerCorrelation`` groups and a new key came.
        public var evictedGroups = 0
        /// Window entries dropped before their time because the window held ``Limits/maxWindowEntries``.
        public var trimmedEntries = 0
        /// Carried values cut to ``Limits/maxValueBytes``.
        public var truncatedValues = 0
        /// Known values a first_seen baseline forgot early because a group had
        /// ``Limits/maxBaselineValues`` of them (a flood of distinct values).
        public var forgottenValues = 0
        /// Rules tested on every event of a stream because their literals did not fit in
        /// ``Limits/maxScreenBytes`` (summed over the streams seen).
        public var unscreenedRules = 0

        public init() {}
    }

    /// Bounds on the engine's live state.
    public struct Limits: Sendable, Equatable {
        /// Most groups (distinct `group-by` keys) one correlation keeps. A new key beyond it evicts
        /// the least recently active of a few groups sampled at random (closing its alert, if open):
        /// memory stays bounded when someone floods distinct keys, and the evictions are counted so
        /// that the flood itself can be seen.
        public var maxGroupsPerCorrelation: Int
        /// Most entries (events, or values for the value types) one count or value window holds:
        /// beyond it the oldest are dropped before their time, counted. A flood from one key then
        /// costs at most this much; a condition above it cannot be reached.
        public var maxWindowEntries: Int
        /// Longest carried value (group-by keys, aggregated values) kept, in UTF-8 bytes; longer ones
        /// are cut to it (at a character boundary), counted, as Elasticsearch's `ignore_above` bounds
        /// keywords.
        public var maxValueBytes: Int
        /// Most bytes the literal screens of one stream's rules take (``RuleScreen``): past it,
        /// further rules are tested on every event instead (slower, never wrong), counted in
        /// ``Statistics/unscreenedRules``.
        public var maxScreenBytes: Int
        /// Most distinct values one group of a first_seen baseline keeps: past it the least recently
        /// seen is forgotten, counted in ``Statistics/forgottenValues`` (it would be new again).
        public var maxBaselineValues = 256

        /// 200,000 groups per correlation, 100,000 entries per window, values of 1 KiB, screens of
        /// 64 MiB.
        public static let `default` = Limits(maxGroupsPerCorrelation: 200_000)

        public init(maxGroupsPerCorrelation: Int, maxWindowEntries: Int = 100_000, maxValueBytes: Int = 1024,
                    maxScreenBytes: Int = 64 << 20) {
            self.maxGroupsPerCorrelation = max(1, maxGroupsPerCorrelation)
            self.maxWindowEntries = max(1, maxWindowEntries)
            self.maxValueBytes = max(16, maxValueBytes)
            self.maxScreenBytes = min(max(0, maxScreenBytes), 1 << 30)
        }
    }

    public let rules: RuleSet
    public let limits: Limits
    public private(set) var statistics = Statistics()
    /// Groups evicted per correlation (by index in ``RuleSet/correlations``).
    public private(set) var evictionsByCorrelation: [Int]
    /// Groups evicted per baseline (by index in ``RuleSet/baselines``).
    public private(set) var evictionsByBaseline: [Int]

    /// Whether ``drainUpdates()`` also reports open alerts that grew (``AlertUpdate/extended(_:)``).
    /// Off by default: a batch run reads alerts only when they close, and tracking growth costs a
    /// little per extending event. Live detection turns it on so stored alerts follow their episode.
    public var reportsExtensions = false

    private var buffer: ReorderBuffer
    private var groups: [GroupTable]
    /// Hashes values and group keys (one random seed per engine).
    private let keyHasher: KeyHasher
    /// The carried values, as symbols.
    private var symbols: SymbolTable
    /// Live symbols after the last collection (the next one runs when the table has doubled).
    private var symbolsAfterCollection = 0
    /// The last value interned per field slot, and its symbol: consecutive events often share an
    /// address or a user, and comparing with the last value is cheaper than a lookup.
    private var lastValues: [FieldValue?]
    private var lastSymbols: [UInt32]
    private var lastGeneration = 0
    /// Evidence references beyond the two held inline.
    private var evidenceStore = EvidenceStore()
    private var nextSweep: [Int64]
    private var earliestSweep: Int64 = .min
    private var open: [Int: Alert] = [:]
    private var updates: [AlertUpdate] = []
    /// Numbers of open alerts extended since the last drain (when ``reportsExtensions``; may repeat).
    private var extended: [Int] = []
    private var indexes: [LogSource: RuleIndex] = [:]
    /// The index of the last event's stream, without reference counting (`indexes` holds it).
    private var lastIndex: Unmanaged<RuleIndex>?
    private var lastSource = LogSource()
    private let correlationPlans: [CorrelationPlan]
    private let nodes: NodeTable
    private let baselinePlans: [BaselinePlan]
    /// Per baseline: each group's history (regularity, first_seen).
    private var baselineGroups: [[GroupKey: RegularityHistory]]
    private var noveltyGroups: [[GroupKey: FirstSeenHistory]]
    /// Per first_seen baseline: the groups with an open alert (a sweep closes those whose window
    /// passed without looking at every group), and when values are next expired.
    private var noveltyOpen: [Set<GroupKey>]
    private var nextNoveltyExpiry: [Int64]
    private var rateGroups: [[GroupKey: RateHistory]]
    private var nextBaselineSweep: [Int64]

    /// - Parameters:
    ///   - rules: a compiled rule set.
    ///   - latenessSeconds: how far out of time order an event may arrive and still be correlated.
    public init(rules: RuleSet, latenessSeconds: Double = 5, limits: Limits = .default) {
        self.init(rules: rules, latenessSeconds: latenessSeconds, limits: limits, hasher: KeyHasher())
    }

    /// An engine whose keys hash with `hasher` (a reload hands its tables over, hashes included).
    private init(rules: RuleSet, latenessSeconds: Double, limits: Limits, hasher: KeyHasher) {
        self.rules = rules
        self.limits = limits
        self.evictionsByCorrelation = Array(repeating: 0, count: rules.correlations.count)
        self.evictionsByBaseline = Array(repeating: 0, count: rules.baselines.count)
        self.baselinePlans = rules.baselines.indices.map { BaselinePlan(rules.baselines[$0], index: $0, rules: rules) }
        self.baselineGroups = Array(repeating: [:], count: rules.baselines.count)
        self.noveltyGroups = Array(repeating: [:], count: rules.baselines.count)
        self.noveltyOpen = Array(repeating: [], count: rules.baselines.count)
        self.nextNoveltyExpiry = Array(repeating: .min, count: rules.baselines.count)
        self.rateGroups = Array(repeating: [:], count: rules.baselines.count)
        self.nextBaselineSweep = Array(repeating: .min, count: rules.baselines.count)
        self.buffer = ReorderBuffer(latenessMicroseconds: Int64((latenessSeconds * 1_000_000).rounded()))
        self.nextSweep = Array(repeating: .min, count: rules.correlations.count)
        let plans = rules.correlations.indices.map {
            CorrelationPlan(rules.correlations[$0], index: $0, rules: rules, maxWindowEntries: limits.maxWindowEntries)
        }
        self.correlationPlans = plans
        self.groups = plans.map { plan in
            var table = GroupTable(stepCount: plan.window.stepCount)
            table.cap = limits.maxGroupsPerCorrelation
            return table
        }
        self.nodes = NodeTable(rules: rules)
        self.keyHasher = hasher
        self.symbols = SymbolTable(hasher: hasher, maxTextBytes: limits.maxValueBytes)
        self.lastValues = Array(repeating: nil, count: rules.fields.count)
        self.lastSymbols = Array(repeating: 0, count: rules.fields.count)
    }

    /// Tests one event against the rules and runs whatever it completes.
    public mutating func process(_ event: EventRecord) {
        statistics.events += 1
        if lastIndex == nil || lastSource != event.logSource {
            let index: RuleIndex
            if let known = indexes[event.logSource] {
                index = known
            } else {
                index = RuleIndex(rules: rules, for: event.logSource, maxScreenBytes: limits.maxScreenBytes)
                statistics.unscreenedRules += index.unscreenedOverLimit
            }
            indexes[event.logSource] = index
            lastIndex = Unmanaged.passUnretained(index)
            lastSource = event.logSource
        }
        var matchedAny = false
        lastIndex.unsafelyUnwrapped._withUnsafeGuaranteedRef { index in
            index.forEachMatch(event) { node in
                matchedAny = true
                admit(node, event)
            }
        }
        guard matchedAny else { return }
        while let hit = buffer.next() { run(hit) }
    }

    /// Makes a hit of `event` matching `node` and puts it in the reorder buffer.
    @inline(__always)
    private mutating func admit(_ node: Int, _ event: EventRecord) {
        statistics.matches += 1
        var values = CarriedSymbols()
        let first = nodes.carriedStart[node], end = nodes.carriedStart[node + 1]
        if first < end {
            for index in first..<end { values[index - first] = symbol(event, slot: nodes.carriedSlots[index]) }
        }
        let hit = RuleHit(timestamp: event.timestamp, node: node, ref: event.ref, values: values)
        if !buffer.insert(hit) {
            statistics.late += 1
            if statistics.lateEvents.count < 100 { statistics.lateEvents.append(event.ref) }
            // Single-event alerts do not depend on order; correlations skip the late event.
            if nodes.emitsAlerts[node] { raiseSingle(hit) }
        }
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
            for slot in 0..<groups[correlation].slotCount where !groups[correlation].isVacant(slot) {
                if let number = groups[correlation].openAlert(slot) { close(number) }
            }
            groups[correlation].removeAll()
        }
        for b in baselineGroups.indices {
            for number in openBaselineAlerts(b) { close(number) }
            baselineGroups[b].removeAll()
            noveltyGroups[b].removeAll()
            noveltyOpen[b].removeAll()
            rateGroups[b].removeAll()
        }
        statistics.liveGroups = 0
        statistics.truncatedValues = symbols.truncated
    }

    /// Returns and forgets the updates since the last call, in order.
    /// An alert opened and extended in the same period is reported as opened, then extended (with
    /// its newest state) after every other update; an alert that closed is reported only as closed.
    public mutating func drainUpdates() -> [AlertUpdate] {
        defer { updates.removeAll(keepingCapacity: true) }
        if !extended.isEmpty {
            var seen = Set<Int>()
            for number in extended where seen.insert(number).inserted {
                if let alert = open[number] { updates.append(.extended(alert)) }
            }
            extended.removeAll(keepingCapacity: true)
        }
        return updates
    }

    /// Whether ``drainUpdates()`` has something to return.
    public var hasUpdates: Bool { !updates.isEmpty || !extended.isEmpty }

    /// What ``replaceRules(_:)`` did.
    public struct RuleChange: Sendable, Equatable {
        /// Correlations that kept their state: the same id (or name), content and sources.
        public var kept: [String]
        /// Correlations of the previous rules that were removed or changed: their groups were
        /// dropped and their open alerts closed.
        public var reset: [String]
    }

    /// Switches to `newRules`, keeping the state (groups, windows, open alerts) of every
    /// correlation whose id or name, content and sources did not change (``RuleSet/stateFingerprints``);
    /// the others start empty under the new rules and their open alerts close (reported by
    /// ``drainUpdates()``). Hits waiting for order are run first, under the previous rules.
    public mutating func replaceRules(_ newRules: RuleSet) -> RuleChange {
        while let hit = buffer.next(flushing: true) { run(hit) }
        var next = DetectionEngine(rules: newRules, latenessSeconds: 0, limits: limits, hasher: keyHasher)
        next.buffer = buffer
        next.reportsExtensions = reportsExtensions
        var previous: [String: Int] = [:]
        for (c, correlation) in rules.correlations.enumerated() { previous[correlation.info.label] = c }
        var change = RuleChange(kept: [], reset: [])
        var keptPrevious = Set<Int>()
        for (c2, correlation) in newRules.correlations.enumerated() {
            guard let c = previous[correlation.info.label], !keptPrevious.contains(c),
                  rules.stateFingerprints[rules.detections.count + c] == newRules.stateFingerprints[newRules.detections.count + c2]
            else { continue }
            keptPrevious.insert(c)
            next.groups[c2] = groups[c]
            next.groups[c2].cap = limits.maxGroupsPerCorrelation
            next.nextSweep[c2] = nextSweep[c]
            for slot in 0..<groups[c].slotCount where !groups[c].isVacant(slot) {
                guard let number = groups[c].openAlert(slot), number >= 0, var alert = open.removeValue(forKey: number) else { continue }
                alert.node = newRules.detections.count + c2
                alert.rule = correlation.info
                next.open[number] = alert
            }
            change.kept.append(correlation.info.label)
        }
        for c in rules.correlations.indices where !keptPrevious.contains(c) {
            change.reset.append(rules.correlations[c].info.label)
            for slot in 0..<groups[c].slotCount where !groups[c].isVacant(slot) {
                if let number = groups[c].openAlert(slot) { close(number) }
            }
        }
        // Baselines: the same, by label and content.
        var previousBaselines: [String: Int] = [:]
        for (b, baseline) in rules.baselines.enumerated() { previousBaselines[baseline.info.label] = b }
        var keptBaselines = Set<Int>()
        let oldOffset = rules.detections.count + rules.correlations.count, newOffset = newRules.detections.count + newRules.correlations.count
        for (b2, baseline) in newRules.baselines.enumerated() {
            guard let b = previousBaselines[baseline.info.label], !keptBaselines.contains(b),
                  rules.stateFingerprints[oldOffset + b] == newRules.stateFingerprints[newOffset + b2] else { continue }
            keptBaselines.insert(b)
            next.baselineGroups[b2] = baselineGroups[b]
            next.noveltyGroups[b2] = noveltyGroups[b]
            next.noveltyOpen[b2] = noveltyOpen[b]
            next.nextNoveltyExpiry[b2] = nextNoveltyExpiry[b]
            next.rateGroups[b2] = rateGroups[b]
            next.nextBaselineSweep[b2] = nextBaselineSweep[b]
            for number in openBaselineAlerts(b) {
                guard var alert = open.removeValue(forKey: number) else { continue }
                alert.node = newOffset + b2
                alert.rule = baseline.info
                next.open[number] = alert
            }
            change.kept.append(baseline.info.label)
        }
        for b in rules.baselines.indices where !keptBaselines.contains(b) {
            change.reset.append(rules.baselines[b].info.label)
            for number in openBaselineAlerts(b) { close(number) }
        }
        next.updates = updates
        next.extended = extended.filter { next.open[$0] != nil }
        next.symbols = symbols
        next.symbolsAfterCollection = symbolsAfterCollection
        next.evidenceStore = evidenceStore
        next.statistics = statistics
        next.statistics.liveGroups = next.groups.reduce(0) { $0 + $1.count } + next.baselineGroups.reduce(0) { $0 + $1.count }
            + next.noveltyGroups.reduce(0) { $0 + $1.count } + next.rateGroups.reduce(0) { $0 + $1.count }
        self = next
        return change
    }

    /// The alerts open now (their condition still holds), in the order they opened.
    public var openAlerts: [Alert] { open.values.sorted { $0.number < $1.number } }


    // MARK: - Internals

    /// The symbol of `event`'s value in `slot` (0: absent or null).
    @inline(__always)
    private mutating func symbol(_ event: EventRecord, slot: Int) -> UInt32 {
        if lastGeneration != symbols.generation {
            for index in lastValues.indices { lastValues[index] = nil; lastSymbols[index] = 0 }
            lastGeneration = symbols.generation
        }
        // Text held as bytes is compared and interned as bytes (no `String` is made).
        let fromText: UInt32? = event.withText(slot) { bytes in
            guard let bytes else { return nil }
            let last = lastSymbols[slot]
            if last != 0, symbols.isText(last, bytes) { return last }
            let symbol = symbols.intern(text: bytes)
            lastValues[slot] = nil
            lastSymbols[slot] = symbol
            return symbol
        }
        if let fromText { return fromText }
        guard let value = event[slot] else { return 0 }
        if lastSymbols[slot] != 0, value == lastValues[slot] { return lastSymbols[slot] }
        let symbol = symbols.intern(value)
        lastValues[slot] = value
        lastSymbols[slot] = symbol
        return symbol
    }

    private mutating func run(_ hit: RuleHit) {
        if nodes.emitsAlerts[hit.node] { raiseSingle(hit) }
        let parents = nodes.parentStart[hit.node]..<nodes.parentStart[hit.node + 1]
        if !parents.isEmpty {
            let evidence = Evidence(hit.ref)
            for index in parents { correlate(hit.timestamp, hit.node, evidence, hit.values, nodes.parents[index]) }
        }
        if hit.node + 1 < nodes.watcherStart.count {
            for index in nodes.watcherStart[hit.node]..<nodes.watcherStart[hit.node + 1] { observeBaseline(nodes.watchers[index], hit) }
        }
        if hit.timestamp.microseconds >= earliestSweep { sweep(hit.timestamp.microseconds) }
    }

    private mutating func raiseSingle(_ hit: RuleHit) {
        statistics.alerts += 1
        let alert = Alert(number: statistics.alerts, node: hit.node, rule: rules.info(ofNode: hit.node), group: [],
                          firstTime: hit.timestamp, lastTime: hit.timestamp, eventCount: 1, events: [hit.ref])
        updates.append(.opened(alert))
        updates.append(.closed(alert))
    }

    /// Runs correlation `c` for a match of `node` at `time` (an event, or a correlation that held:
    /// chaining), with its evidence and carried values.
    private mutating func correlate(_ time: Timestamp, _ node: Int, _ evidence: Evidence, _ values: CarriedSymbols, _ c: Int) {
        let source = correlationPlans[c].sources[node]
        guard source.positions != 0 else { return }
        let key: GroupKey
        // An event without a group-by field belongs to no group (as in SQL/Splunk 'by' clauses
        // that drop nulls): it is not correlated by this rule.
        switch correlationPlans[c].groupBy.count {
        case 0:
            key = 0
        case 1:
            let value = source.group0 >= 0 ? values[Int(source.group0)] : 0
            guard value != 0 else { statistics.ungrouped += 1; return }
            key = GroupKey(value)
        case 2:
            let v0 = source.group0 >= 0 ? values[Int(source.group0)] : 0
            let v1 = source.group1 >= 0 ? values[Int(source.group1)] : 0
            guard v0 != 0, v1 != 0 else { statistics.ungrouped += 1; return }
            key = GroupKey(v0) | GroupKey(v1) << 32
        default:
            var keyValues: [FieldValue] = []
            for index in correlationPlans[c].groupIndices[node] {
                let value = index.map { values[$0] } ?? 0
                guard value != 0 else { statistics.ungrouped += 1; return }
                keyValues.append(symbols[value])
            }
            key = GroupKey(symbols.intern(.list(keyValues)))
        }
        let valueSymbol = source.value >= 0 ? values[Int(source.value)] : 0
        let number = valueSymbol != 0 && correlationPlans[c].window.type.needsNumber ? symbols[valueSymbol].number : nil
        let window = correlationPlans[c].window
        let now = time.microseconds
        let hash = keyHasher.hash(key)
        var outcome = GroupOutcome(openingTime: now)
        let slot = groups[c].observe(key: key, hash: hash, time: now, evidence: evidence, value: valueSymbol,
                                     number: number, positions: source.positions, rule: window, store: &evidenceStore,
                                     outcome: &outcome)
        if outcome.trimmed { statistics.trimmedEntries += 1 }
        if outcome.evicted {
            statistics.evictedGroups += 1
            evictionsByCorrelation[c] += 1
            if let evicted = outcome.evictedAlert { close(evicted) }
        }
        if let expired = outcome.expiredAlert { close(expired) }
        guard outcome.holds else {
            if let number = outcome.openAlert {
                close(number)
                groups[c].setOpenAlert(nil, slot: slot)
            }
            return
        }
        // Count types: this event extends an episode, and the window is the opening evidence.
        // Temporal types: the completed match is both.
        let temporal = window.stepCount > 0
        let eventRefs = temporal ? outcome.chain : evidence
        let isNew = outcome.openAlert == nil
        if let number = outcome.openAlert {
            if number >= 0 {
                open[number]?.extend(at: time, with: eventRefs, in: evidenceStore)
                if reportsExtensions { extended.append(number) }
            }
        } else if correlationPlans[c].emitsAlerts {
            statistics.alerts += 1
            let number = statistics.alerts
            let plan = correlationPlans[c]
            let group = zip(plan.groupBy, keyValues(key, count: plan.groupBy.count)).map { Alert.GroupValue(field: $0, value: $1.text) }
            var alert = Alert(number: number, node: plan.node, rule: plan.info, group: group,
                              firstTime: time, lastTime: time, eventCount: 0, events: [])
            if temporal {
                alert.firstTime = Timestamp(microseconds: outcome.openingTime)
                alert.eventCount = eventRefs.count
                alert.addEvidence(evidenceStore.array(eventRefs))
            } else {
                let window = groups[c].windowEvidence(slot: slot, now: now, store: evidenceStore)
                alert.firstTime = Timestamp(microseconds: window.firstTime)
                alert.eventCount = window.count
                alert.addEvidence(window.refs)
            }
            open[number] = alert
            updates.append(.opened(alert))
            groups[c].setOpenAlert(number, slot: slot)
        } else {
            // Intermediate correlation in a chain: tracks its episode without an alert.
            groups[c].setOpenAlert(-1, slot: slot)
        }
        // Chaining: a correlation that holds is an event for the correlations that reference it.
        let parents = correlationPlans[c].parents
        guard !parents.isEmpty else { return }
        var refs = eventRefs
        if isNew, !temporal {
            // When the condition starts holding, the whole window made it hold.
            let window = groups[c].windowEvidence(slot: slot, now: now, store: evidenceStore)
            if window.refs.count > eventRefs.count { refs = evidenceStore.evidence(window.refs) }
        }
        let node = correlationPlans[c].node
        var carried = CarriedSymbols()
        switch correlationPlans[c].groupBy.count {
        case 0: break
        case 1: carried[0] = UInt32(truncatingIfNeeded: key)
        case 2: carried[0] = UInt32(truncatingIfNeeded: key); carried[1] = UInt32(truncatingIfNeeded: key >> 32)
        default:
            for (index, value) in keyValues(key, count: correlationPlans[c].groupBy.count).enumerated() {
                carried[index] = symbols.intern(value)
            }
        }
        for parent in parents { correlate(time, node, refs, carried, parent) }
    }

    // MARK: - Baselines

    /// Runs baseline `b` for a match of detection `hit.node`.
    private mutating func observeBaseline(_ b: Int, _ hit: RuleHit) {
        // The plan is read in place: a copy would retain each of its strings and arrays, per hit.
        let source = baselinePlans[b].sources[hit.node]
        guard source.watched else { return }
        let key: GroupKey
        switch baselinePlans[b].groupBy.count {
        case 0:
            key = 0
        case 1:
            let value = source.group0 >= 0 ? hit.values[Int(source.group0)] : 0
            guard value != 0 else { statistics.ungrouped += 1; return }
            key = GroupKey(value)
        case 2:
            let v0 = source.group0 >= 0 ? hit.values[Int(source.group0)] : 0
            let v1 = source.group1 >= 0 ? hit.values[Int(source.group1)] : 0
            guard v0 != 0, v1 != 0 else { statistics.ungrouped += 1; return }
            key = GroupKey(v0) | GroupKey(v1) << 32
        default:
            var keyValues: [FieldValue] = []
            for index in baselinePlans[b].groupIndices[hit.node] {
                let value = index.map { hit.values[$0] } ?? 0
                guard value != 0 else { statistics.ungrouped += 1; return }
                keyValues.append(symbols[value])
            }
            key = GroupKey(symbols.intern(.list(keyValues)))
        }
        switch baselinePlans[b].kind {
        case .regularity(let repetitions, let maxVariation, let minInterval):
            observeRegularity(b, key, hit, repetitions: repetitions, maxVariation: maxVariation, minInterval: minInterval)
        case .firstSeen(let learning, let field):
            let value = source.value >= 0 ? hit.values[Int(source.value)] : 0
            guard value != 0 else { statistics.ungrouped += 1; return }
            observeFirstSeen(b, key, value, hit, learning: learning, field: field)
        case .rate(let history, let minHistory, let deviations, let minCount):
            observeRate(b, key, hit, history: history, minHistory: minHistory, deviations: deviations, minCount: minCount)
        }
    }

    /// The open alerts of baseline `b`, in number order.
    private func openBaselineAlerts(_ b: Int) -> [Int] {
        (baselineGroups[b].values.map(\.openAlert) + noveltyGroups[b].values.map(\.openAlert) + rateGroups[b].values.map(\.openAlert))
            .filter { $0 >= 0 }.sorted()
    }

    /// Runs rate baseline `b` for group `key`.
    private mutating func observeRate(_ b: Int, _ key: GroupKey, _ hit: RuleHit, history: Int, minHistory: Int, deviations: Double, minCount: Int) {
        let now = hit.timestamp.microseconds
        let span = baselinePlans[b].span
        var found = rateGroups[b].index(forKey: key)
        if found == nil {
            if rateGroups[b].count >= limits.maxGroupsPerCorrelation { evictBaselineGroup(b) }
            rateGroups[b][key] = RateHistory(time: now, span: span)
            found = rateGroups[b].index(forKey: key)
        }
        let index = found!
        var rollover = RateHistory.Rollover(ended: false, endedOver: false)
        let outcome = rateGroups[b].values[index].observe(now, span: span, history: history, minHistory: minHistory, deviations: deviations,
                                                          minCount: minCount, rollover: &rollover)
        let openAlert = rateGroups[b].values[index].openAlert
        // A bucket that ended without going over ends the episode.
        if rollover.ended, !rollover.endedOver, openAlert >= 0 {
            close(openAlert)
            rateGroups[b].values[index].openAlert = -1
        }
        guard outcome == .over else { return }
        let state = rateGroups[b].values[index]
        let explanation = BaselinePlan.explainRate(state, span: span, deviations: deviations)
        if state.openAlert >= 0 {
            open[state.openAlert]?.extend(at: hit.timestamp, with: Evidence(hit.ref), in: evidenceStore)
            open[state.openAlert]?.explanation = explanation
            if reportsExtensions { extended.append(state.openAlert) }
            return
        }
        let plan = baselinePlans[b]
        statistics.alerts += 1
        let number = statistics.alerts
        let group = zip(plan.groupBy, keyValues(key, count: plan.groupBy.count)).map { Alert.GroupValue(field: $0, value: $1.text) }
        var alert = Alert(number: number, node: plan.node, rule: plan.info, group: group, firstTime: Timestamp(microseconds: state.firstInBucket),
                          lastTime: hit.timestamp, eventCount: state.count, events: [hit.ref])
        alert.explanation = explanation
        open[number] = alert
        updates.append(.opened(alert))
        rateGroups[b].values[index].openAlert = number
    }

    /// Runs regularity baseline `b` for group `key`.
    private mutating func observeRegularity(_ b: Int, _ key: GroupKey, _ hit: RuleHit, repetitions: Int, maxVariation: Double, minInterval: Int64) {
        let now = hit.timestamp.microseconds
        // One lookup; the history is updated in place (a copy would retain its gaps).
        guard let index = baselineGroups[b].index(forKey: key) else {
            if baselineGroups[b].count >= limits.maxGroupsPerCorrelation { evictBaselineGroup(b) }
            baselineGroups[b][key] = RegularityHistory(time: now, capacity: repetitions - 1)
            return
        }
        let verdict = baselineGroups[b].values[index].observe(now, repetitions: repetitions, maxVariation: maxVariation,
                                                                minInterval: minInterval, maxInterval: baselinePlans[b].span)
        let openAlert = baselineGroups[b].values[index].openAlert
        if verdict.regular {
            let plan = baselinePlans[b]
            let explanation = BaselinePlan.explainRegularity(verdict, history: baselineGroups[b].values[index], rule: plan.kind)
            if openAlert >= 0 {
                open[openAlert]?.extend(at: hit.timestamp, with: Evidence(hit.ref), in: evidenceStore)
                open[openAlert]?.explanation = explanation
                if reportsExtensions { extended.append(openAlert) }
            } else {
                statistics.alerts += 1
                let number = statistics.alerts
                let group = zip(plan.groupBy, keyValues(key, count: plan.groupBy.count)).map { Alert.GroupValue(field: $0, value: $1.text) }
                var alert = Alert(number: number, node: plan.node, rule: plan.info, group: group,
                                  firstTime: Timestamp(microseconds: baselineGroups[b].values[index].stretchStart),
                                  lastTime: hit.timestamp, eventCount: repetitions, events: [hit.ref])
                alert.explanation = explanation
                open[number] = alert
                updates.append(.opened(alert))
                baselineGroups[b].values[index].openAlert = number
            }
        } else if openAlert >= 0 {
            close(openAlert)
            baselineGroups[b].values[index].openAlert = -1
        }
    }

    /// Runs first_seen baseline `b` for group `key` and value `value` (a symbol).
    private mutating func observeFirstSeen(_ b: Int, _ key: GroupKey, _ value: UInt32, _ hit: RuleHit, learning: Int64, field: String) {
        let now = hit.timestamp.microseconds
        var found = noveltyGroups[b].index(forKey: key)
        if found == nil {
            if noveltyGroups[b].count >= limits.maxGroupsPerCorrelation { evictBaselineGroup(b) }
            noveltyGroups[b][key] = FirstSeenHistory(time: now)
            found = noveltyGroups[b].index(forKey: key)
        }
        let index = found!
        // An alert whose window passed closes before anything else.
        let previous = noveltyGroups[b].values[index].openAlert
        if previous >= 0, now > noveltyGroups[b].values[index].alertUntil {
            close(previous)
            noveltyGroups[b].values[index].openAlert = -1
            noveltyOpen[b].remove(key)
        }
        var forgotten = false
        let outcome = noveltyGroups[b].values[index].observe(value, at: now, learning: learning, capacity: limits.maxBaselineValues,
                                                             forgotten: &forgotten)
        if forgotten { statistics.forgottenValues += 1 }
        guard outcome == .new else { return }
        let plan = baselinePlans[b]
        let history = noveltyGroups[b].values[index]
        let others = history.others(than: value, limit: 5)
        let explanation = BaselinePlan.explainFirstSeen(value: symbols[value].text ?? "-", field: field, others: others.map { symbols[$0].text ?? "-" },
                                                        otherCount: history.known.count - 1, history: history, learning: learning)
        noveltyGroups[b].values[index].alertUntil = now &+ plan.span
        if history.openAlert >= 0 {
            open[history.openAlert]?.extend(at: hit.timestamp, with: Evidence(hit.ref), in: evidenceStore)
            open[history.openAlert]?.explanation = explanation
            if reportsExtensions { extended.append(history.openAlert) }
            return
        }
        statistics.alerts += 1
        let number = statistics.alerts
        let group = zip(plan.groupBy, keyValues(key, count: plan.groupBy.count)).map { Alert.GroupValue(field: $0, value: $1.text) }
        var alert = Alert(number: number, node: plan.node, rule: plan.info, group: group, firstTime: hit.timestamp,
                          lastTime: hit.timestamp, eventCount: 1, events: [hit.ref])
        alert.explanation = explanation
        open[number] = alert
        updates.append(.opened(alert))
        noveltyGroups[b].values[index].openAlert = number
        noveltyOpen[b].insert(key)
    }

    /// What the baseline rules have learned (their groups' histories), to restore after a restart.
    public func baselineSnapshot() -> BaselineSnapshot {
        var snapshot = BaselineSnapshot()
        for (b, plan) in baselinePlans.enumerated() {
            var rule = BaselineSnapshot.Rule(label: plan.info.label, fingerprint: rules.stateFingerprints[plan.node])
            let count = plan.groupBy.count
            for (key, history) in baselineGroups[b].sorted(by: { $0.key < $1.key }) {
                rule.regular.append(.init(key: keyValues(key, count: count).map(BaselineSnapshot.StoredValue.init), lastTime: history.lastTime,
                                          gaps: history.recentGaps, stretchStart: history.stretchStart, stretchCount: history.stretchCount))
            }
            if !rateGroups[b].isEmpty { rule.rate = [] }
            for (key, state) in rateGroups[b].sorted(by: { $0.key < $1.key }) {
                rule.rate?.append(.init(key: keyValues(key, count: count).map(BaselineSnapshot.StoredValue.init), bucket: state.bucket, count: state.count,
                                        counts: state.counts, age: state.age, lastTime: state.lastTime, firstInBucket: state.firstInBucket))
            }
            for (key, history) in noveltyGroups[b].sorted(by: { $0.key < $1.key }) {
                let known = history.known.sorted { $0.key < $1.key }.map { BaselineSnapshot.KnownValue(value: .init(symbols[$0.key]), lastSeen: $0.value) }
                rule.novel.append(.init(key: keyValues(key, count: count).map(BaselineSnapshot.StoredValue.init), firstTime: history.firstTime,
                                        lastTime: history.lastTime, known: known))
            }
            snapshot.rules.append(rule)
        }
        return snapshot
    }

    /// Takes back what a ``baselineSnapshot()`` held, for the rules that are still the same (label
    /// and content); the others start empty. Returns the groups restored. Call before any event.
    @discardableResult
    public mutating func restoreBaselines(_ snapshot: BaselineSnapshot) -> Int {
        var restored = 0
        for saved in snapshot.rules {
            guard let b = baselinePlans.firstIndex(where: { $0.info.label == saved.label }),
                  rules.stateFingerprints[baselinePlans[b].node] == saved.fingerprint else { continue }
            let plan = baselinePlans[b]
            func key(_ values: [BaselineSnapshot.StoredValue]) -> GroupKey? {
                guard values.count == plan.groupBy.count else { return nil }
                let interned = values.map { symbols.intern($0.value) }
                switch interned.count {
                case 0: return 0
                case 1: return GroupKey(interned[0])
                case 2: return GroupKey(interned[0]) | GroupKey(interned[1]) << 32
                default: return GroupKey(symbols.intern(.list(values.map(\.value))))
                }
            }
            switch plan.kind {
            case .regularity(let repetitions, _, _):
                for group in saved.regular.prefix(limits.maxGroupsPerCorrelation) {
                    guard let key = key(group.key) else { continue }
                    baselineGroups[b][key] = RegularityHistory(lastTime: group.lastTime, gaps: group.gaps, stretchStart: group.stretchStart,
                                                               stretchCount: group.stretchCount, capacity: repetitions - 1)
                    restored += 1
                }
            case .firstSeen:
                for group in saved.novel.prefix(limits.maxGroupsPerCorrelation) {
                    guard let key = key(group.key) else { continue }
                    var known: [UInt32: Int64] = [:]
                    for value in group.known.suffix(limits.maxBaselineValues) { known[symbols.intern(value.value.value)] = value.lastSeen }
                    noveltyGroups[b][key] = FirstSeenHistory(firstTime: group.firstTime, lastTime: group.lastTime, known: known)
                    restored += 1
                }
            case .rate(let history, let minHistory, let deviations, _):
                for group in (saved.rate ?? []).prefix(limits.maxGroupsPerCorrelation) {
                    guard let key = key(group.key) else { continue }
                    rateGroups[b][key] = RateHistory(bucket: group.bucket, count: group.count, counts: group.counts, age: group.age,
                                                     lastTime: group.lastTime, firstInBucket: group.firstInBucket,
                                                     history: history, minHistory: minHistory, deviations: deviations)
                    restored += 1
                }
            }
        }
        return restored
    }

    /// Makes room in baseline `b`'s full table: the least recently active of a few groups goes
    /// (its open alert closes), counted.
    private mutating func evictBaselineGroup(_ b: Int) {
        var victim: (key: GroupKey, time: Int64)?
        for (key, history) in baselineGroups[b].prefix(8) where victim == nil || history.lastTime < victim!.time {
            victim = (key, history.lastTime)
        }
        for (key, history) in noveltyGroups[b].prefix(8) where victim == nil || history.lastTime < victim!.time {
            victim = (key, history.lastTime)
        }
        for (key, history) in rateGroups[b].prefix(8) where victim == nil || history.lastTime < victim!.time {
            victim = (key, history.lastTime)
        }
        guard let victim else { return }
        noveltyOpen[b].remove(victim.key)
        let openAlert = baselineGroups[b].removeValue(forKey: victim.key)?.openAlert ?? noveltyGroups[b].removeValue(forKey: victim.key)?.openAlert
            ?? rateGroups[b].removeValue(forKey: victim.key)?.openAlert ?? -1
        if openAlert >= 0 { close(openAlert) }
        statistics.evictedGroups += 1
        evictionsByBaseline[b] += 1
    }

    /// Forgets baseline groups idle for longer than their timespan (closing their alerts), once per
    /// timespan (at least 2 minutes) of event time per baseline.
    private mutating func sweepBaselines(_ now: Int64, force: Bool) -> (earliest: Int64, live: Int) {
        var earliest = Int64.max
        var live = 0
        for b in baselinePlans.indices {
            let span = baselinePlans[b].span
            if nextBaselineSweep[b] == .min { nextBaselineSweep[b] = now + max(span, 120_000_000) }
            if force || now >= nextBaselineSweep[b] {
                nextBaselineSweep[b] = now + max(span, 120_000_000)
                let oldest = now - span
                let idle = baselineGroups[b].filter { $0.value.lastTime < oldest }
                for (key, history) in idle.sorted(by: { $0.value.lastTime < $1.value.lastTime }) {
                    if history.openAlert >= 0 { close(history.openAlert) }
                    baselineGroups[b].removeValue(forKey: key)
                }
                if case .firstSeen(let learning, _) = baselinePlans[b].kind, !noveltyGroups[b].isEmpty {
                    // Alerts whose window passed close (in key order: the same every run).
                    for key in noveltyOpen[b].sorted() {
                        guard let index = noveltyGroups[b].index(forKey: key) else { noveltyOpen[b].remove(key); continue }
                        let history = noveltyGroups[b].values[index]
                        if history.openAlert >= 0, history.alertUntil < now {
                            close(history.openAlert)
                            noveltyGroups[b].values[index].openAlert = -1
                            noveltyOpen[b].remove(key)
                        }
                    }
                    // Values unseen for the learning period are forgotten, and groups with none
                    // left go: every sixteenth of the learning period (memory, not meaning: a
                    // value's age is checked when it comes).
                    if nextNoveltyExpiry[b] == .min { nextNoveltyExpiry[b] = now &+ max(span, learning / 16) }
                    if now >= nextNoveltyExpiry[b] {
                        nextNoveltyExpiry[b] = now &+ max(span, learning / 16)
                        let oldestKnown = now &- learning
                        let due = noveltyGroups[b].filter { $0.value.mayExpire(before: oldestKnown) }.keys.sorted()
                        for key in due {
                            let index = noveltyGroups[b].index(forKey: key)!
                            noveltyGroups[b].values[index].expire(before: oldestKnown)
                            if noveltyGroups[b].values[index].known.isEmpty, noveltyGroups[b].values[index].openAlert < 0 {
                                noveltyGroups[b].remove(at: index)
                            }
                        }
                    }
                }
                if case .rate(let history, _, _, _) = baselinePlans[b].kind, !rateGroups[b].isEmpty {
                    // An alert closes once a bucket has passed without its group's events; a group
                    // silent for its whole history is forgotten.
                    let current = now / span
                    let due = rateGroups[b].filter { entry in
                        (entry.value.openAlert >= 0 && entry.value.bucket + 1 < current) || entry.value.bucket + Int64(history) < current
                    }.keys.sorted()
                    for key in due {
                        let index = rateGroups[b].index(forKey: key)!
                        let state = rateGroups[b].values[index]
                        if state.openAlert >= 0, state.bucket + 1 < current {
                            close(state.openAlert)
                            rateGroups[b].values[index].openAlert = -1
                        }
                        if state.bucket + Int64(history) < current { rateGroups[b].remove(at: index) }
                    }
                }
            }
            earliest = min(earliest, nextBaselineSweep[b])
            live += baselineGroups[b].count + noveltyGroups[b].count + rateGroups[b].count
        }
        return (earliest, live)
    }

    /// The values of a group key of `count` fields, in group-by order.
    private func keyValues(_ key: GroupKey, count: Int) -> [FieldValue] {
        switch count {
        case 0: return []
        case 1: return [symbols[UInt32(truncatingIfNeeded: key)]]
        case 2: return [symbols[UInt32(truncatingIfNeeded: key)], symbols[UInt32(truncatingIfNeeded: key >> 32)]]
        default:
            if case .list(let values) = symbols[UInt32(truncatingIfNeeded: key)] { return values }
            return []
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
                for slot in 0..<groups[c].slotCount where groups[c].lastTime(slot) < oldest {
                    if let number = groups[c].openAlert(slot) { close(number) }
                    groups[c].remove(slot: slot)
                }
                groups[c].compactIfSparse()
            }
            earliest = min(earliest, nextSweep[c])
            live += groups[c].count
        }
        let baselines = sweepBaselines(now, force: force)
        earliestSweep = min(earliest, baselines.earliest)
        statistics.liveGroups = live + baselines.live
        if symbols.count > max(4096, 2 * symbolsAfterCollection) { collectSymbols() }
        if evidenceStore.collectionDue {
            let groups = self.groups
            evidenceStore.collect { marks in
                for table in groups { table.markEvidence(&marks) }
            }
        }
        statistics.symbols = symbols.count
        statistics.truncatedValues = symbols.truncated
    }

    /// Frees the symbols of values that no group key, window or waiting hit uses any more, so that
    /// the symbol table stays bounded by the live state (a long-running server sees ever new
    /// addresses).
    private mutating func collectSymbols() {
        let groups = self.groups, plans = correlationPlans, buffer = self.buffer
        let baselineGroups = self.baselineGroups, noveltyGroups = self.noveltyGroups, rateGroups = self.rateGroups, baselinePlans = self.baselinePlans
        symbols.collect { marks in
            for b in baselinePlans.indices {
                let fields = baselinePlans[b].groupBy.count
                for key in Array(baselineGroups[b].keys) + Array(noveltyGroups[b].keys) + Array(rateGroups[b].keys) where fields > 0 {
                    marks.mark(UInt32(truncatingIfNeeded: key))
                    if fields == 2 { marks.mark(UInt32(truncatingIfNeeded: key >> 32)) }
                }
                for history in noveltyGroups[b].values { for value in history.known.keys { marks.mark(value) } }
            }
            for c in plans.indices {
                let fields = plans[c].groupBy.count
                let table = groups[c]
                let valued = plans[c].window.type.needsField
                for slot in 0..<table.slotCount where !table.isVacant(slot) {
                    let key = table.key(slot)
                    if fields > 0 { marks.mark(UInt32(truncatingIfNeeded: key)) }
                    if fields == 2 { marks.mark(UInt32(truncatingIfNeeded: key >> 32)) }
                    if valued { table.forEachValue(slot: slot) { marks.mark($0) } }
                }
            }
            buffer.forEachHit { hit in
                for index in 0..<CarriedSymbols.capacity { marks.mark(hit.values[index]) }
            }
        }
        symbolsAfterCollection = symbols.count
    }
}
