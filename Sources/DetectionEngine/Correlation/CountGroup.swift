import SecurityModel

/// The state of a count or value correlation (`event_count`, `value_count`, `value_sum`,
/// `value_avg`, `value_percentile`) for one group-by key: its sliding window and the alert it has
/// open.
///
/// Plain data, so that creating, moving and dropping a group copies bytes. An `event_count`
/// window holds its newest events (up to ``inlineCapacity``) in the group itself: most windows
/// are that small, and keeping them in a separate buffer cost a cache miss per event (a third of
/// the time spent observing, measured on 10 M lines). Older events, and every event of the value
/// types, live in a ``WindowState`` that the group's ``GroupTable`` keeps in a pool.
struct CountGroup: Sendable {
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

    /// An event held in the group: one event (weight 1) with its one reference.
    struct Single: Sendable {
        var time: Int64
        var ref: EventRef
    }

    /// Events of an `event_count` window held in the group itself.
    static let inlineCapacity = 4

    var openAlert: Int?
    /// The group's ``WindowState`` in its table's pool.
    var window: Int32 = -1
    /// The inline events: `ringCount` of them from `ringStart` (cyclically), the window's newest
    /// (they come after the window state's `older` and `recent`).
    private var ringStart: UInt8 = 0
    private var ringCount: UInt8 = 0
    /// Whether events were put in the window state (removing the group must then reset it; until
    /// then, observing never touches it).
    private(set) var usesWindowState = false
    /// Events the window stands for (``Stamp/weight`` summed).
    private(set) var weightTotal = 0
    /// Entries in the window (inline and in the window state) and the time of the first, kept here
    /// so that an observation that expires nothing, the common case, reads nothing else.
    private(set) var entries = 0
    private(set) var firstTime: Int64 = 0
    private var sum: Double = 0
    private var ring: (Single, Single, Single, Single)

    init() {
        let empty = Single(time: 0, ref: .line(source: 0, line: 0))
        ring = (empty, empty, empty, empty)
    }

    /// Inline event `index` (0: the oldest held inline).
    @inline(__always)
    private func inline(_ index: Int) -> Single {
        let position = (Int(ringStart) + index) % Self.inlineCapacity
        return withUnsafeBytes(of: ring) { $0.load(fromByteOffset: position * MemoryLayout<Single>.stride, as: Single.self) }
    }

    @inline(__always)
    private mutating func setInline(_ index: Int, _ single: Single) {
        let position = (Int(ringStart) + index) % Self.inlineCapacity
        withUnsafeMutableBytes(of: &ring) { $0.storeBytes(of: single, toByteOffset: position * MemoryLayout<Single>.stride, as: Single.self) }
    }

    /// Records an event at `time` (with its `evidence`) and evaluates the condition. `value` is the
    /// symbol of the aggregated field's value (0: none) and `number` its numeric value, for the
    /// value types. `window` is the group's window state. The result is written to `outcome`,
    /// which must be `GroupOutcome(openingTime: now)` (its table has filled in the alerts before
    /// this event; filled in place: returning it would copy it, and that copy stalled on the
    /// narrow stores just made to it).
    mutating func observe(time now: Int64, evidence: Evidence, value: UInt32, number: Double?,
                          rule: CorrelationPlan.Window, window: inout WindowState, outcome: inout GroupOutcome) {
        // The window is inclusive: an event exactly one timespan earlier still counts.
        let oldest = now - rule.span
        if entries > 0, firstTime < oldest { expireEntries(before: oldest, type: rule.type, &window) }
        switch rule.type {
        case .eventCount:
            if let ref = evidence.single {
                appendInline(Single(time: now, ref: ref), &window)
            } else {
                append(now, evidence, nil, &window)
            }
            if entries > rule.maxEntries { dropOldestEntry(type: rule.type, &window, &outcome) }
            outcome.holds = rule.condition.holds(Double(entries))
        case .valueCount:
            if value != 0 {
                append(now, evidence, Valued(value: value, number: 0), &window)
                window.distinct[value, default: 0] += 1
                if entries > rule.maxEntries { dropOldestEntry(type: rule.type, &window, &outcome) }
            }
            outcome.holds = !window.distinct.isEmpty && rule.condition.holds(Double(window.distinct.count))
        case .valueSum, .valueAvg, .valuePercentile:
            guard value != 0, let number else { return }
            append(now, evidence, Valued(value: value, number: number), &window)
            sum += number
            if entries > rule.maxEntries { dropOldestEntry(type: rule.type, &window, &outcome) }
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
        case .temporal, .temporalOrdered:
            preconditionFailure("temporal correlations keep a SequenceGroup")
        }
    }

    /// Drops the events before `oldest`, oldest first: the window state's older entries, its recent
    /// ones, then the inline ones.
    private mutating func expireEntries(before oldest: Int64, type: CorrelationType, _ window: inout WindowState) {
        if usesWindowState {
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
            // Only when all older entries are gone can newer ones have expired.
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
            if !window.isEmpty {
                entries = window.count + Int(ringCount)
                firstTime = window.older.first?.time ?? window.recent.first?.time ?? firstTime
                return
            }
        }
        while ringCount > 0, inline(0).time < oldest {
            ringStart = UInt8((Int(ringStart) + 1) % Self.inlineCapacity)
            ringCount -= 1
            weightTotal -= 1
        }
        entries = Int(ringCount)
        if ringCount > 0 { firstTime = inline(0).time }
        if entries == 0 { sum = 0 }
    }

    /// Drops the window's oldest entry, before its time: the window holds more entries than its cap
    /// (a flood from one key). The window then stands for the newest `maxEntries` entries.
    private mutating func dropOldestEntry(type: CorrelationType, _ window: inout WindowState, _ outcome: inout GroupOutcome) {
        outcome.trimmed = true
        if usesWindowState, !window.isEmpty {
            let weight: Int
            if let first = window.older.popFirst() { weight = first.weight } else { weight = window.recent.removeFirst().weight }
            weightTotal -= weight
            if type.needsField, let gone = window.valued.popFirst() {
                if type == .valueCount {
                    let remaining = window.distinct[gone.value, default: 1] - 1
                    window.distinct[gone.value] = remaining == 0 ? nil : remaining
                } else {
                    sum -= gone.number
                }
            }
            entries -= 1
            firstTime = window.older.first?.time ?? window.recent.first?.time ?? (ringCount > 0 ? inline(0).time : firstTime)
            return
        }
        guard ringCount > 0 else { return }
        ringStart = UInt8((Int(ringStart) + 1) % Self.inlineCapacity)
        ringCount -= 1
        weightTotal -= 1
        entries -= 1
        if ringCount > 0 { firstTime = inline(0).time }
    }

    /// Appends an event of weight 1 inline; when the group holds ``inlineCapacity`` already, the
    /// oldest of them moves to the window state.
    @inline(__always)
    private mutating func appendInline(_ single: Single, _ window: inout WindowState) {
        weightTotal += 1
        if entries == 0 { firstTime = single.time }
        entries += 1
        if Int(ringCount) == Self.inlineCapacity {
            moveOldestInline(&window, making: 1)
        }
        setInline(Int(ringCount), single)
        ringCount += 1
    }

    /// Moves the oldest inline event to the window state, keeping references for the newest
    /// ``Alert/maxReferences`` events once `making` more are added.
    private mutating func moveOldestInline(_ window: inout WindowState, making added: Int) {
        let oldest = inline(0)
        usesWindowState = true
        window.recent.append(Recent(time: oldest.time, weight: 1, evidence: Evidence(oldest.ref)))
        ringStart = UInt8((Int(ringStart) + 1) % Self.inlineCapacity)
        ringCount -= 1
        Self.keepReferencesBounded(&window, besides: Int(ringCount) + added)
    }

    /// Keeps references for the newest ``Alert/maxReferences`` events of the window, `others` of
    /// them held elsewhere (inline, or about to be added): beyond them, an event keeps only its
    /// time and weight.
    private static func keepReferencesBounded(_ window: inout WindowState, besides others: Int) {
        if window.recent.count + others > Alert.maxReferences {
            let first = window.recent.removeFirst()
            window.older.append(Stamp(time: first.time, weight: first.weight))
        }
    }

    /// Appends an event to the window state (after the inline events, which move there first, so
    /// that the window stays in time order).
    private mutating func append(_ time: Int64, _ evidence: Evidence, _ valued: Valued?, _ window: inout WindowState) {
        while ringCount > 0 { moveOldestInline(&window, making: 0) }
        usesWindowState = true
        weightTotal += evidence.count
        if entries == 0 { firstTime = time }
        entries += 1
        if let valued { window.valued.append(valued) }
        window.recent.append(Recent(time: time, weight: evidence.count, evidence: evidence))
        Self.keepReferencesBounded(&window, besides: 0)
    }

    /// Marks the store lists this group's evidence uses (see ``EvidenceStore/collect(marking:)``).
    func markEvidence(_ marks: inout EvidenceStore.Marks, window: WindowState) {
        guard usesWindowState else { return }
        for entry in window.recent { marks.mark(entry.evidence) }
    }

    /// The evidence of a window whose condition starts holding: the newest events of the window
    /// (all of them unless it is larger than the evidence kept), how many events the window stands
    /// for (references are capped, the count is not), and when the window begins.
    func windowEvidence(now: Int64, window: WindowState, store: EvidenceStore) -> (refs: [EventRef], count: Int, firstTime: Int64) {
        var refs: [EventRef] = []
        if usesWindowState {
            for entry in window.recent where refs.count < Alert.maxReferences { store.forEach(entry.evidence) { refs.append($0) } }
        }
        for index in 0..<Int(ringCount) where refs.count < Alert.maxReferences { refs.append(inline(index).ref) }
        return (refs, weightTotal, entries > 0 ? firstTime : now)
    }
}
