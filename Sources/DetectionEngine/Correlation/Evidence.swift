import SecurityModel

/// A list of event references: the first two inline (one event, or a two-step sequence, is the
/// common case), the rest in an ``EvidenceStore`` list.
///
/// Plain data, so that hits, windows and sequence steps copy it as bytes, without reference
/// counting. Read and extend it through the engine's store: ``EvidenceStore/forEach(_:_:)`` and
/// ``EvidenceStore/append(_:to:)``.
struct Evidence: Sendable {
    fileprivate(set) var count = 0
    fileprivate var a = EventRef.line(source: 0, line: 0)
    fileprivate var b = EventRef.line(source: 0, line: 0)
    /// Index of the store list holding references `2...` (-1: none). A list may be shared by
    /// copies; each reads only its own `count - 2` first entries.
    fileprivate var list: Int32 = -1

    init() {}
    init(_ ref: EventRef) { a = ref; count = 1 }

    /// The reference of evidence of one event (nil for any other count).
    @inline(__always)
    var single: EventRef? { count == 1 ? a : nil }
}

/// The references of ``Evidence`` beyond the two held inline, in append-only lists.
///
/// Evidence values share a list by prefix: appending to one whose list has since grown past it (a
/// copy was extended) starts a new list, so a copy never sees another's references. Lists that
/// no window or sequence holds any more are freed by ``collect(marking:)``, which the engine runs
/// from its sweep, so the store stays bounded by the live state.
struct EvidenceStore: Sendable {
    private var lists: [[EventRef]] = []
    private var free: [Int32] = []
    /// Lists in use after the last collection (the next one runs when that has doubled).
    private var liveAfterCollection = 0

    /// Lists holding references now.
    var liveLists: Int { lists.count - free.count }

    /// Appends `ref` to `evidence`.
    @inline(__always)
    mutating func append(_ ref: EventRef, to evidence: inout Evidence) {
        switch evidence.count {
        case 0: evidence.a = ref
        case 1: evidence.b = ref
        default: appendToList(ref, &evidence)
        }
        evidence.count += 1
    }

    private mutating func appendToList(_ ref: EventRef, _ evidence: inout Evidence) {
        let own = evidence.count - 2
        if evidence.list >= 0, lists[Int(evidence.list)].count == own {
            lists[Int(evidence.list)].append(ref)
            return
        }
        var entries: [EventRef] = evidence.list >= 0 ? Array(lists[Int(evidence.list)].prefix(own)) : []
        entries.append(ref)
        if !free.isEmpty {
            let reused = free.removeLast()
            lists[Int(reused)] = entries
            evidence.list = reused
        } else {
            lists.append(entries)
            evidence.list = Int32(lists.count - 1)
        }
    }

    /// Appends every reference of `other` to `evidence`.
    mutating func append(contentsOf other: Evidence, to evidence: inout Evidence) {
        if other.count > 0 { append(other.a, to: &evidence) }
        if other.count > 1 { append(other.b, to: &evidence) }
        if other.count > 2 {
            for ref in lists[Int(other.list)].prefix(other.count - 2) { append(ref, to: &evidence) }
        }
    }

    /// Calls `body` with each reference of `evidence`, in order.
    @inline(__always)
    func forEach(_ evidence: Evidence, _ body: (EventRef) -> Void) {
        if evidence.count > 0 { body(evidence.a) }
        if evidence.count > 1 { body(evidence.b) }
        if evidence.count > 2 {
            let list = lists[Int(evidence.list)]
            for index in 0..<(evidence.count - 2) { body(list[index]) }
        }
    }

    /// The references of `evidence` as an array.
    func array(_ evidence: Evidence) -> [EventRef] {
        var refs: [EventRef] = []
        refs.reserveCapacity(evidence.count)
        forEach(evidence) { refs.append($0) }
        return refs
    }

    /// Evidence with the references of `refs`.
    mutating func evidence(_ refs: [EventRef]) -> Evidence {
        var evidence = Evidence()
        for ref in refs { append(ref, to: &evidence) }
        return evidence
    }

    /// Whether a collection is due (the lists in use have doubled since the last one).
    var collectionDue: Bool { liveLists > max(1024, 2 * liveAfterCollection) }

    /// Lists reached by a ``EvidenceStore/collect(marking:)`` pass.
    struct Marks {
        fileprivate var reached: [Bool]
        @inline(__always)
        mutating func mark(_ evidence: Evidence) {
            if evidence.list >= 0 { reached[Int(evidence.list)] = true }
        }
    }

    /// Frees every list that `marking` does not reach from live evidence.
    mutating func collect(marking: (inout Marks) -> Void) {
        var marks = Marks(reached: Array(repeating: false, count: lists.count))
        for index in free { marks.reached[Int(index)] = true }   // already free: leave alone
        marking(&marks)
        for index in lists.indices where !marks.reached[index] {
            lists[index] = []
            free.append(Int32(index))
        }
        liveAfterCollection = liveLists
    }
}
