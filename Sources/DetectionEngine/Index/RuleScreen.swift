import SecurityModel

/// Rules put behind the literals they need (``LiteralNeed``): one automaton per searched text (the
/// raw line, a field) finds, in one pass, which rules' literals an event contains, and only those
/// rules (with the rules that have no screen) are tested.
///
/// This is what makes a keyword list of hundreds of values, or twenty rules with `contains` lists
/// on the same field, cost one pass over the text instead of one per value; and a rule indexed by
/// a common value (`cs-method: GET`) with a rare keyword list is tested only on events with one of
/// its keywords.
///
/// A rule's *mark* is its index in the rule set; an event's hits are a bit per rule.
final class RuleScreen: Sendable {
    /// One pass: the text searched and the automaton of every literal searched in it.
    struct Pass: Sendable {
        let target: LiteralNeed.Target
        let automaton: LiteralAutomaton
    }

    let passes: [Pass]
    /// A bit per rule, set for the rules without a screen (which may match any event).
    private let unscreenedBits: [UInt64]
    let wordCount: Int
    /// Rules behind a screen.
    let screenedCount: Int
    /// Rules left unscreened because their literals would have taken the automata past the limit.
    let overLimitCount: Int

    /// Screens `needs` (a need per rule; nil: no screen), keeping the automata's tables within
    /// `maxBytes` (later rules beyond it stay unscreened).
    init(needs: [LiteralNeed?], maxBytes: Int) {
        var literals: [LiteralNeed.Target: [(bytes: [UInt8], mark: Int32)]] = [:]
        // Per text: its literals' bytes and distinct (folded) bytes, which bound its table's size.
        var sizes: [LiteralNeed.Target: (bytes: Int, classes: Set<UInt8>)] = [:]
        func tableBytes(_ size: (bytes: Int, classes: Set<UInt8>)) -> Int {
            let (total, overflow) = (size.bytes &+ 1).multipliedReportingOverflow(by: (size.classes.count + 1) * 4)
            return overflow ? .max : total
        }
        var screened = Set<Int>()
        var overLimit = 0
        var used = 0
        for (position, need) in needs.enumerated() {
            guard let need else { continue }
            var changed: [LiteralNeed.Target: (bytes: Int, classes: Set<UInt8>)] = [:]
            for item in need.items {
                var size = changed[item.target] ?? sizes[item.target] ?? (0, [])
                size.bytes = size.bytes.addingReportingOverflow(item.bytes.count).partialValue
                for byte in item.bytes { size.classes.insert(byte) }
                changed[item.target] = size
            }
            var cost = used
            for (target, size) in changed {
                cost -= sizes[target].map(tableBytes) ?? 0
                cost = cost.addingReportingOverflow(tableBytes(size)).partialValue
            }
            guard cost >= 0, cost <= maxBytes else { overLimit += 1; continue }
            used = cost
            for (target, size) in changed { sizes[target] = size }
            for item in need.items { literals[item.target, default: []].append((item.bytes, Int32(position))) }
            screened.insert(position)
        }
        self.passes = literals.keys.sorted().map { Pass(target: $0, automaton: LiteralAutomaton(literals[$0]!)) }
        let words = (needs.count + 63) / 64
        var bits = Array(repeating: UInt64(0), count: words)
        for position in needs.indices where !screened.contains(position) { bits[position >> 6] |= 1 << UInt64(position & 63) }
        self.unscreenedBits = bits
        self.wordCount = words
        self.screenedCount = screened.count
        self.overLimitCount = overLimit
    }

    /// Calls `body` with a bit per rule that may match `event`: set for the unscreened rules and
    /// those whose literals the event contains.
    @inline(__always)
    func withHits<R>(_ event: EventRecord, _ body: (UnsafeMutableBufferPointer<UInt64>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: wordCount) { words in
            unscreenedBits.withUnsafeBufferPointer { bits in
                for index in 0..<wordCount { words[index] = bits[index] }
            }
            for pass in passes {
                Self.forEachText(of: pass.target, in: event) { bytes in
                    pass.automaton.scan(bytes) { mark in words[Int(mark) >> 6] |= 1 << UInt64(mark & 63) }
                }
            }
            return body(words)
        }
    }

    /// Calls `body` with the bytes to search for `target`: the text as ``TextPattern`` reads it
    /// (lowercased when not ASCII), once per element of a list.
    @inline(__always)
    static func forEachText(of target: LiteralNeed.Target, in event: EventRecord, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch target {
        case .raw:
            TextPattern.withBytes(event.raw) { searchable($0, body) }
        case .slot(let slot):
            let held = event.withText(slot) { bytes -> Bool in
                guard let bytes else { return false }
                searchable(bytes, body)
                return true
            }
            if !held, let value = event[slot] { forEachText(of: value, nested: false, body) }
        }
    }

    private static func forEachText(of value: FieldValue, nested: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch value {
        case .null: return
        case .string(let text): TextPattern.withBytes(text) { searchable($0, body) }
        case .list(let elements):
            // A list matches when an element does; an element that is a list itself is read by one
            // test as its joined text and by another element by element: search both.
            for element in elements { forEachText(of: element, nested: true, body) }
            if nested, let text = value.text { TextPattern.withBytes(text) { searchable($0, body) } }
        default:
            if let text = value.text { TextPattern.withBytes(text) { searchable($0, body) } }
        }
    }

    @inline(__always)
    private static func searchable(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if TextPattern.isASCII(bytes) { return body(bytes) }
        TextPattern.withBytes(String(decoding: bytes, as: UTF8.self).lowercased(), body)
    }
}
