import SecurityModel

/// The state of a temporal correlation (`temporal`, `temporal_ordered`) for one group-by key:
/// which of its rules have matched, and when, and the alert it has open.
///
/// Plain data, so that creating, moving and dropping a group copies bytes. The steps of sequences
/// of more than two rules live in a ``WindowState`` that the group's ``GroupTable`` keeps in a pool.
struct SequenceGroup: Sendable {
    struct Step: Sendable {
        /// When the sequence (ordered) or this rule's latest match (unordered) began.
        var start: Int64
        var refs: Evidence
    }

    var openAlert: Int?
    /// The group's ``WindowState`` in its table's pool (-1: none, sequences of up to two rules).
    var window: Int32 = -1
    /// The steps, the first two inline.
    var steps: StepList

    init(stepCount: Int) { steps = StepList(count: stepCount) }

    /// Whether a group of a sequence of `stepCount` rules needs a ``WindowState``.
    static func needsWindow(stepCount: Int) -> Bool { stepCount > 2 }

    /// Records a match at `time` (with its `evidence`) of the rules at the set bits of `positions`
    /// and evaluates the correlation. `window` is the group's window state (an empty one for
    /// groups without). The result is written to `outcome`, which must be
    /// `GroupOutcome(openingTime: now)` (its table has filled in the alerts before this event).
    mutating func observe(time now: Int64, evidence: Evidence, positions: UInt64,
                          rule: CorrelationPlan.Window, window: inout WindowState, store: inout EvidenceStore,
                          outcome: inout GroupOutcome) {
        let span = rule.span
        // Drops what began before the window (inclusive: an event exactly one timespan earlier
        // still counts).
        steps.expire(before: now - span, &window.moreSteps)
        if rule.type == .temporal {
            var bits = positions
            while bits != 0 {
                steps.set(bits.trailingZeroBitCount, Step(start: now, refs: evidence), &window.moreSteps)
                bits &= bits - 1
            }
            let matched = steps.presentCount(window.moreSteps)
            outcome.holds = rule.condition.isPresent ? rule.condition.holds(Double(matched)) : matched == steps.count
            if outcome.holds { consumeSteps(&outcome, &window, &store) }
            return
        }
        // Ordered. Latest-start prefixes: steps[k] is the newest way the first k+1 rules matched in order.
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

    /// Marks the store lists this group's evidence uses (see ``EvidenceStore/collect(marking:)``).
    func markEvidence(_ marks: inout EvidenceStore.Marks, window: WindowState) {
        for index in 0..<steps.count { if let step = steps.get(index, window.moreSteps) { marks.mark(step.refs) } }
    }

    /// A completed temporal match uses up its events: the next match needs new ones.
    private mutating func consumeSteps(_ outcome: inout GroupOutcome, _ window: inout WindowState, _ store: inout EvidenceStore) {
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
}
