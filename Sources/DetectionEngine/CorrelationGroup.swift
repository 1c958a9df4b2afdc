import DequeModule
import SecurityModel

/// The state of one correlation for one group-by key: which rules have matched (temporal types),
/// the counters of its sliding window (the others), and the alert it has open.
///
/// Plain data, so that creating, moving and vacating a group copies bytes. What grows with the
/// events (the window's times, values and references, and the steps of sequences of more than two
/// rules) lives in a ``WindowState`` that the group's ``GroupTable`` keeps in a pool and reuses.
struct CorrelationGroup: Sendable {
    struct Stamp: Sendable {
        var time: Int64
        /// Events this entry stands for (more than one for a hit made by a chained correlation).
        var weight: Int
    }

    struct Valued: Sendable {
        /// The value's symbol (``SymbolTable``).
        var value: UInt32
        var number: Double
    }

    struct Recent: Sendable {
        var time: Int64
        /// Events this entry stands for (as ``Stamp/weight``).
        var weight: Int
        var evidence: Evidence
    }

    struct Step: Sendable {
        /// When the sequence (ordered) or this rule's latest match (unordered) began.
        var start: Int64
        var refs: Evidence
    }

    /// What one observation did (plain data: the window's evidence is read afterwards, and only
    /// when an alert opens, with ``windowEvidence(now:window:store:)``).
    struct Outcome {
        init(openingTime: Int64) { self.openingTime = openingTime }
        var holds = false
        /// Temporal types: when the completed match began.
        var openingTime: Int64
        /// Temporal types: the events of the completed match (the evidence of the alert or chained hit).
        var chain = Evidence()
        /// The alert that was open before this observation (negative: an untracked episode).
        var openAlert: Int?
        /// An alert that ended because the window had emptied before this event.
        var expiredAlert: Int?
    }

    // Fields in the order an observation reads them, so that it touches as few cache lines of a
    // group as it can (observing is mostly waiting for group state to arrive from memory).
    var openAlert: Int?
    /// The group's ``WindowState`` in its table's pool (-1: none; temporal types of up to two rules).
    var window: Int32 = -1
    /// Events the window stands for (``Stamp/weight`` summed).
    var weightTotal = 0
    /// Entries in the window (its ``WindowState``'s `older` and `recent` together) and the time of
    /// the first, kept here so that an observation that expires nothing, the common case, reads
    /// neither deque: each is a separate allocation, and reading one was a cache miss per
    /// observation (a third of the time spent observing, measured on 10 M lines).
    var entries = 0
    var firstTime: Int64 = 0
    var sum: Double = 0
    /// Temporal types: the steps, the first two inline (no window state for a pair).
    var steps: StepList
    /// Whether this is an empty slot of a ``GroupTable``.
    private(set) var isVacant = false

    init(stepCount: Int) { steps = StepList(count: stepCount) }

    /// Whether a group with `stepCount` steps needs a ``WindowState``: all but the temporal types
    /// of up to two rules (count and value types have no steps).
    static func needsWindow(stepCount: Int) -> Bool { stepCount == 0 || stepCount > 2 }

    /// The state of an empty slot (holds nothing; its table never expires it).
    static let vacant: CorrelationGroup = {
        var group = CorrelationGroup(stepCount: 0)
        group.isVacant = true
        return group
    }()

    /// Drops what lies before `oldest` (the window is inclusive: an event exactly one timespan
    /// earlier still counts).
    @inline(__always)
    mutating func expire(before oldest: Int64, type: CorrelationType, window: inout WindowState) {
        // Temporal types keep only steps, the others only windows: touch just what the type uses.
        if steps.count > 0 {
            steps.expire(before: oldest, &window.moreSteps)
            return
        }
        guard entries > 0, firstTime < oldest else { return }
        expireEntries(before: oldest, type: type, &window)
    }

    private mutating func expireEntries(before oldest: Int64, type: CorrelationType, _ window: inout WindowState) {
        let valueType = type.needsField
        @inline(__always) func drop(_ weight: Int) {
            weightTotal -= weight
            if valueType, let gone = window.valued.popFirst() {
                if type == .valueCount {
                    let remaining = window.distinct[gone.value, default: 1] - 1
                    window.distinct[gone.value] = remaining == 0 ? nil : remaining
                } else {
                    sum -= gone.number
                }
            }
        }
        // The older entries come first: only when they are all gone can newer ones have expired.
        while let first = window.older.first, first.time < oldest {
            window.older.removeFirst()
            drop(first.weight)
        }
        if window.older.isEmpty {
            while let first = window.recent.first, first.time < oldest {
                window.recent.removeFirst()
                drop(first.weight)
            }
        }
        entries = window.count
        if let first = window.older.first { firstTime = first.time } else if let first = window.recent.first { firstTime = first.time }
        if window.isEmpty { sum = 0 }
    }

    @inline(__always)
    private mutating func append(_ time: Int64, _ evidence: Evidence, _ valued: Valued?, _ window: inout WindowState) {
        weightTotal += evidence.count
        if entries == 0 { firstTime = time }
        entries += 1
        if let valued { window.valued.append(valued) }
        window.recent.append(Recent(time: time, weight: evidence.count, evidence: evidence))
        if window.recent.count > Alert.maxReferences {
            // Beyond the newest events, an event keeps only its time and weight.
            let first = window.recent.removeFirst()
            window.older.append(Stamp(time: first.time, weight: first.weight))
        }
    }

    /// Records an event at `time` (with its `evidence`, for the rules at the set bits of
    /// `positions`) and evaluates the condition. `value` is the symbol of the aggregated field's
    /// value (0: none) and `number` its numeric value, for the value types. `previousTime` is
    /// when the group last saw an event (its table keeps that: ``GroupTable/lastTime(_:)``).
    /// `window` is the group's window state (an empty one for groups without). The result is
    /// written to `outcome`, which must be `Outcome(openingTime: now)` (filled in place: returning
    /// it would copy it, and that copy stalled on the narrow stores just made to it).
    mutating func observe(time now: Int64, previousTime: Int64, evidence: Evidence, value: UInt32, number: Double?,
                          positions: UInt64, rule: CorrelationPlan.Window, window: inout WindowState,
                          store: inout EvidenceStore, outcome: inout Outcome) {
        let span = rule.span
        // An alert whose window emptied while its key was quiet has ended.
        if let open = openAlert, previousTime < now - span {
            outcome.expiredAlert = open
            openAlert = nil
        }
        outcome.openAlert = openAlert
        expire(before: now - span, type: rule.type, window: &window)
        switch rule.type {
        case .eventCount:
            append(now, evidence, nil, &window)
            outcome.holds = rule.condition.holds(Double(entries))
        case .valueCount:
            if value != 0 {
                append(now, evidence, Valued(value: value, number: 0), &window)
                window.distinct[value, default: 0] += 1
            }
            outcome.holds = !window.distinct.isEmpty && rule.condition.holds(Double(window.distinct.count))
        case .valueSum, .valueAvg, .valuePercentile:
            guard value != 0, let number else { return }
            append(now, evidence, Valued(value: value, number: number), &window)
            sum += number
            let measure: Double
            switch rule.type {
            case .valueSum: measure = sum
            case .valueAvg: measure = sum / Double(window.valued.count)
            default:
                var atOrBelow = 0
                for entry in window.valued where entry.number <= number { atOrBelow += 1 }
                measure = 100 * Double(atOrBelow) / Double(window.valued.count)
            }
            outcome.holds = rule.condition.holds(measure)
        case .temporal:
            var bits = positions
            while bits != 0 {
                steps.set(bits.trailingZeroBitCount, Step(start: now, refs: evidence), &window.moreSteps)
                bits &= bits - 1
            }
            let matched = steps.presentCount(window.moreSteps)
            outcome.holds = rule.condition.isPresent ? rule.condition.holds(Double(matched)) : matched == steps.count
            if outcome.holds { consumeSteps(&outcome, &window, &store) }
        case .temporalOrdered:
            // Latest-start prefixes: steps[k] is the newest way the first k+1 rules matched in order.
            var completed = false
            var bits = positions
            while bits != 0 {
                // Highest position first, so that one event does not fill two steps in a row.
                let position = 63 - bits.leadingZeroBitCount
                bits &= ~(1 << UInt64(position))
                if position == 0 {
                    steps.set(0, Step(start: now, refs: evidence), &window.moreSteps)
                } else if let previous = steps.get(position - 1, window.moreSteps), now - previous.start <= span {
                    var refs = previous.refs
                    store.append(contentsOf: evidence, to: &refs)
                    steps.set(position, Step(start: previous.start, refs: refs), &window.moreSteps)
                    if position == steps.count - 1 { completed = true }
                }
            }
            outcome.holds = completed
            if completed, let chain = steps.get(steps.count - 1, window.moreSteps) {
                outcome.openingTime = chain.start
                outcome.chain = chain.refs
                steps.clear(&window.moreSteps)
            }
        }
    }

    /// Marks the store lists this group's evidence uses (see ``EvidenceStore/collect(marking:)``).
    func markEvidence(_ marks: inout EvidenceStore.Marks, window: WindowState) {
        for entry in window.recent { marks.mark(entry.evidence) }
        for index in 0..<steps.count { if let step = steps.get(index, window.moreSteps) { marks.mark(step.refs) } }
    }

    /// A completed temporal match uses up its events: the next match needs new ones.
    private mutating func consumeSteps(_ outcome: inout Outcome, _ window: inout WindowState, _ store: inout EvidenceStore) {
        var start = outcome.openingTime
        var seen: [EventRef] = []
        for index in 0..<steps.count {
            guard let step = steps.get(index, window.moreSteps) else { continue }
            start = min(start, step.start)
            store.forEach(step.refs) { ref in if !seen.contains(ref) { seen.append(ref) } }
        }
        let refs = store.evidence(seen)
        outcome.openingTime = start
        outcome.chain = refs
        steps.clear(&window.moreSteps)
    }

    /// The evidence of a count-type window whose condition starts holding: the newest events of the
    /// window (all of them unless it is larger than the evidence kept), how many events the window
    /// stands for (references are capped, the count is not), and when the window begins.
    func windowEvidence(now: Int64, window: WindowState, store: EvidenceStore) -> (refs: [EventRef], count: Int, firstTime: Int64) {
        var refs: [EventRef] = []
        for entry in window.recent where refs.count < Alert.maxReferences { store.forEach(entry.evidence) { refs.append($0) } }
        return (refs, weightTotal, entries > 0 ? firstTime : now)
    }
}

/// What a group's state holds that grows with its events: the sliding window (times and weights,
/// the values for the value types, the newest events' references) and the steps of a sequence
/// beyond its first two. Kept in a pool by ``GroupTable`` and reused when a group is removed, so a
/// key that comes and goes does not allocate each time.
struct WindowState: Sendable {
    /// The newest events of the window (up to ``Alert/maxReferences``), with their references.
    var recent: Deque<CorrelationGroup.Recent> = []
    /// The window's older events, time and weight only (a flood costs 16 bytes per event).
    var older: Deque<CorrelationGroup.Stamp> = []
    /// Parallel to the window's events (`older`, then `recent`) for the value types.
    var valued: Deque<CorrelationGroup.Valued> = []
    /// Value count: how many events in the window have each value (by symbol).
    var distinct: [UInt32: Int] = [:]
    /// Steps `2...` of a temporal correlation of more than two rules.
    var moreSteps: [CorrelationGroup.Step?] = []

    /// Events in the window.
    var count: Int { older.count + recent.count }
    var isEmpty: Bool { older.isEmpty && recent.isEmpty }

    /// A window of a group with `stepCount` steps (0: a count or value type).
    init(stepCount: Int = 0) {
        if stepCount > 2 { moreSteps = Array(repeating: nil, count: stepCount - 2) }
    }

    /// Empties the window for reuse by a group with `stepCount` steps. Small buffers are kept;
    /// those a flood made large are given back.
    mutating func reset(stepCount: Int) {
        let keep = 256
        if !older.isEmpty { older.removeAll(keepingCapacity: older.count <= keep) }
        if !recent.isEmpty { recent.removeAll(keepingCapacity: recent.count <= 32) }
        if !valued.isEmpty { valued.removeAll(keepingCapacity: valued.count <= keep) }
        if !distinct.isEmpty { distinct.removeAll(keepingCapacity: distinct.count <= keep) }
        let more = max(0, stepCount - 2)
        if moreSteps.count != more {
            moreSteps = Array(repeating: nil, count: more)
        } else if more > 0 {
            for index in moreSteps.indices { moreSteps[index] = nil }
        }
    }
}

/// The steps of a temporal correlation for one key; the first two are held inline (the group
/// stays plain data), the rest in the group's ``WindowState`` (`more`).
struct StepList: Sendable {
    let count: Int
    private var first: CorrelationGroup.Step?
    private var second: CorrelationGroup.Step?

    init(count: Int) { self.count = count }

    @inline(__always)
    func get(_ index: Int, _ more: [CorrelationGroup.Step?]) -> CorrelationGroup.Step? {
        switch index {
        case 0: return first
        case 1: return second
        default: return more[index - 2]
        }
    }

    @inline(__always)
    mutating func set(_ index: Int, _ step: CorrelationGroup.Step?, _ more: inout [CorrelationGroup.Step?]) {
        switch index {
        case 0: first = step
        case 1: second = step
        default: more[index - 2] = step
        }
    }

    func presentCount(_ more: [CorrelationGroup.Step?]) -> Int { (0..<count).reduce(0) { $0 + (get($1, more) == nil ? 0 : 1) } }

    mutating func clear(_ more: inout [CorrelationGroup.Step?]) {
        first = nil
        second = nil
        for index in more.indices { more[index] = nil }
    }

    /// Drops the steps that began before `oldest`.
    @inline(__always)
    mutating func expire(before oldest: Int64, _ more: inout [CorrelationGroup.Step?]) {
        if let start = first?.start, start < oldest { first = nil }
        if let start = second?.start, start < oldest { second = nil }
        for index in more.indices { if let start = more[index]?.start, start < oldest { more[index] = nil } }
    }
}
