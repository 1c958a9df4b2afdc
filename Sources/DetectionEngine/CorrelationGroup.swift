import DequeModule
import SecurityModel

/// The state of one correlation for one group-by key: the events inside the sliding window (or,
/// for the temporal types, which rules have matched), and the alert it has open.
///
/// A window keeps 16 bytes per event (time and weight), plus the value for the value types; event
/// references are kept only for the newest ``Alert/maxReferences`` events, so a flood from one key
/// costs little memory per event.
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
        var evidence: Evidence
    }

    struct Step: Sendable {
        /// When the sequence (ordered) or this rule's latest match (unordered) began.
        var start: Int64
        var refs: Evidence
    }

    /// What one observation did (plain data: the window's evidence is read afterwards, and only
    /// when an alert opens, with ``windowEvidence(now:store:)``).
    struct Outcome {
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
    var stamps: Deque<Stamp> = []
    var recent: Deque<Recent> = []
    var weightTotal = 0
    /// Temporal types: the steps, the first two inline (no allocation for a pair).
    var steps: StepList
    /// Parallel to `stamps` for the value types.
    var valued: Deque<Valued> = []
    /// Value count: how many events in the window have each value (by symbol).
    var distinct: [UInt32: Int] = [:]
    var sum: Double = 0
    /// Whether this is an empty slot of a ``GroupTable``.
    private(set) var isVacant = false

    init(stepCount: Int) { steps = StepList(count: stepCount) }

    /// The state of an empty slot (holds nothing; its table never expires it).
    static let vacant: CorrelationGroup = {
        var group = CorrelationGroup(stepCount: 0)
        group.isVacant = true
        return group
    }()

    /// Drops what lies before `oldest` (the window is inclusive: an event exactly one timespan
    /// earlier still counts).
    @inline(__always)
    mutating func expire(before oldest: Int64, type: CorrelationType) {
        // Temporal types keep only steps, the others only windows: touch just what the type uses.
        if steps.count > 0 {
            steps.expire(before: oldest)
            return
        }
        if !stamps.isEmpty, stamps[stamps.startIndex].time < oldest { expireStamps(before: oldest, type: type) }
        while !recent.isEmpty, recent[recent.startIndex].time < oldest { recent.removeFirst() }
    }

    private mutating func expireStamps(before oldest: Int64, type: CorrelationType) {
        let valueType = type.needsField
        while !stamps.isEmpty, stamps[stamps.startIndex].time < oldest {
            let first = stamps.removeFirst()
            weightTotal -= first.weight
            if valueType, let gone = valued.popFirst() {
                if type == .valueCount {
                    let remaining = distinct[gone.value, default: 1] - 1
                    distinct[gone.value] = remaining == 0 ? nil : remaining
                } else {
                    sum -= gone.number
                }
            }
        }
        if stamps.isEmpty { sum = 0 }
    }

    @inline(__always)
    private mutating func append(_ time: Int64, _ evidence: Evidence, _ valued: Valued?) {
        stamps.append(Stamp(time: time, weight: evidence.count))
        weightTotal += evidence.count
        if let valued { self.valued.append(valued) }
        recent.append(Recent(time: time, evidence: evidence))
        if recent.count > Alert.maxReferences { recent.removeFirst() }
    }

    /// Records an event at `time` (with its `evidence`, for the rules at the set bits of
    /// `positions`) and evaluates the condition. `value` is the symbol of the aggregated field's
    /// value (0: none) and `number` its numeric value, for the value types. `previousTime` is
    /// when the group last saw an event (its table keeps that: ``GroupTable/lastTimes``).
    mutating func observe(time now: Int64, previousTime: Int64, evidence: Evidence, value: UInt32, number: Double?,
                          positions: UInt64, rule: CorrelationPlan.Window, store: inout EvidenceStore) -> Outcome {
        let span = rule.span
        var outcome = Outcome(holds: false, openingTime: now)
        // An alert whose window emptied while its key was quiet has ended.
        if let open = openAlert, previousTime < now - span {
            outcome.expiredAlert = open
            openAlert = nil
        }
        outcome.openAlert = openAlert
        expire(before: now - span, type: rule.type)
        switch rule.type {
        case .eventCount:
            append(now, evidence, nil)
            outcome.holds = rule.condition.holds(Double(stamps.count))
        case .valueCount:
            if value != 0 {
                append(now, evidence, Valued(value: value, number: 0))
                distinct[value, default: 0] += 1
            }
            outcome.holds = !distinct.isEmpty && rule.condition.holds(Double(distinct.count))
        case .valueSum, .valueAvg, .valuePercentile:
            guard value != 0, let number else { return outcome }
            append(now, evidence, Valued(value: value, number: number))
            sum += number
            let measure: Double
            switch rule.type {
            case .valueSum: measure = sum
            case .valueAvg: measure = sum / Double(valued.count)
            default:
                var atOrBelow = 0
                for entry in valued where entry.number <= number { atOrBelow += 1 }
                measure = 100 * Double(atOrBelow) / Double(valued.count)
            }
            outcome.holds = rule.condition.holds(measure)
        case .temporal:
            var bits = positions
            while bits != 0 {
                steps[bits.trailingZeroBitCount] = Step(start: now, refs: evidence)
                bits &= bits - 1
            }
            let matched = steps.presentCount
            outcome.holds = rule.condition.isPresent ? rule.condition.holds(Double(matched)) : matched == steps.count
            if outcome.holds { consumeSteps(&outcome, &store) }
        case .temporalOrdered:
            // Latest-start prefixes: steps[k] is the newest way the first k+1 rules matched in order.
            var completed = false
            var bits = positions
            while bits != 0 {
                // Highest position first, so that one event does not fill two steps in a row.
                let position = 63 - bits.leadingZeroBitCount
                bits &= ~(1 << UInt64(position))
                if position == 0 {
                    steps[0] = Step(start: now, refs: evidence)
                } else if let previousStart = steps.start(position - 1), now - previousStart <= span {
                    var refs = steps[position - 1]!.refs
                    store.append(contentsOf: evidence, to: &refs)
                    steps[position] = Step(start: previousStart, refs: refs)
                    if position == steps.count - 1 { completed = true }
                }
            }
            outcome.holds = completed
            if completed, let chain = steps[steps.count - 1] {
                outcome.openingTime = chain.start
                outcome.chain = chain.refs
                steps.clear()
            }
        }
        return outcome
    }

    /// Marks the store lists this group's evidence uses (see ``EvidenceStore/collect(marking:)``).
    func markEvidence(_ marks: inout EvidenceStore.Marks) {
        for entry in recent { marks.mark(entry.evidence) }
        for index in 0..<steps.count { if let step = steps[index] { marks.mark(step.refs) } }
    }

    /// A completed temporal match uses up its events: the next match needs new ones.
    private mutating func consumeSteps(_ outcome: inout Outcome, _ store: inout EvidenceStore) {
        var start = outcome.openingTime
        var seen: [EventRef] = []
        for index in 0..<steps.count {
            guard let step = steps[index] else { continue }
            start = min(start, step.start)
            store.forEach(step.refs) { ref in if !seen.contains(ref) { seen.append(ref) } }
        }
        let refs = store.evidence(seen)
        outcome.openingTime = start
        outcome.chain = refs
        steps.clear()
    }

    /// The evidence of a count-type window whose condition starts holding: the newest events of the
    /// window (all of them unless it is larger than the evidence kept), how many events the window
    /// stands for (references are capped, the count is not), and when the window begins.
    func windowEvidence(now: Int64, store: EvidenceStore) -> (refs: [EventRef], count: Int, firstTime: Int64) {
        var refs: [EventRef] = []
        for entry in recent where refs.count < Alert.maxReferences { store.forEach(entry.evidence) { refs.append($0) } }
        return (refs, weightTotal, stamps.first?.time ?? now)
    }
}

/// The steps of a temporal correlation for one key; the first two are held inline, so the
/// common two-rule sequence allocates nothing per key.
struct StepList: Sendable {
    let count: Int
    private var first: CorrelationGroup.Step?
    private var second: CorrelationGroup.Step?
    private var more: [CorrelationGroup.Step?]

    init(count: Int) {
        self.count = count
        more = count > 2 ? Array(repeating: nil, count: count - 2) : []
    }

    subscript(index: Int) -> CorrelationGroup.Step? {
        get {
            switch index {
            case 0: return first
            case 1: return second
            default: return more[index - 2]
            }
        }
        set {
            switch index {
            case 0: first = newValue
            case 1: second = newValue
            default: more[index - 2] = newValue
            }
        }
    }

    /// The start of step `index`, without copying its evidence.
    @inline(__always)
    func start(_ index: Int) -> Int64? {
        switch index {
        case 0: return first?.start
        case 1: return second?.start
        default: return more[index - 2]?.start
        }
    }

    var presentCount: Int { (0..<count).reduce(0) { $0 + (start($1) == nil ? 0 : 1) } }

    mutating func clear() {
        first = nil
        second = nil
        for index in more.indices { more[index] = nil }
    }

    /// Drops the steps that began before `oldest`.
    @inline(__always)
    mutating func expire(before oldest: Int64) {
        if let start = first?.start, start < oldest { first = nil }
        if let start = second?.start, start < oldest { second = nil }
        for index in more.indices { if let start = more[index]?.start, start < oldest { more[index] = nil } }
    }
}
