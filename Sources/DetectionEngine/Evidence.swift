import SecurityModel

/// A short list of event references, held inline up to two (a pair is the common case: one event,
/// or a two-step sequence), so that passing evidence along allocates nothing.
struct Evidence: Sendable, Sequence {
    private(set) var count = 0
    private var a = EventRef.line(source: 0, line: 0)
    private var b = EventRef.line(source: 0, line: 0)
    private var overflow: [EventRef] = []

    init() {}
    init(_ ref: EventRef) { a = ref; count = 1 }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ ref: EventRef) {
        switch count {
        case 0: a = ref
        case 1: b = ref
        default: overflow.append(ref)
        }
        count += 1
    }

    mutating func append(contentsOf other: Evidence) { for ref in other { append(ref) } }

    struct Iterator: IteratorProtocol {
        let evidence: Evidence
        var index = 0
        mutating func next() -> EventRef? {
            defer { index += 1 }
            switch index {
            case _ where index >= evidence.count: return nil
            case 0: return evidence.a
            case 1: return evidence.b
            default: return evidence.overflow[index - 2]
            }
        }
    }

    func makeIterator() -> Iterator { Iterator(evidence: self) }
}
