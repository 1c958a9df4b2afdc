import SecurityModel

/// The detection rules that apply to one stream, indexed by the values they require, so that an
/// event is tested only against rules it could match.
///
/// A rule whose condition implies `field == one of {values}` (for example `action: LOGIN_FAILURE`)
/// is filed under that field and those values; other rules are tested on every event.
final class RuleIndex: Sendable {
    struct FieldIndex: @unchecked Sendable {
        let slot: Int
        /// Value (as written, lower- and upper-cased) -> rule indices.
        let rules: TextTable
        /// `rules` without reference counting, for the lookup of every event (`rules` keeps the
        /// table alive as long as the index).
        let unretained: Unmanaged<TextTable>

        init(slot: Int, rules: TextTable) {
            self.slot = slot
            self.rules = rules
            self.unretained = Unmanaged.passUnretained(rules)
        }
    }

    let logSource: LogSource
    /// The rule set's detection rules (held here so that matching copies nothing per event).
    let detections: [DetectionRule]
    let always: [Int]
    /// `always` as a bit per rule.
    private let alwaysBits: [UInt64]
    /// The literals rules need, when some have them: only rules whose literals an event contains
    /// are tested (``RuleScreen``).
    let screen: RuleScreen?
    /// Rules left unscreened because their literals did not fit in the screen's memory limit.
    let unscreenedOverLimit: Int
    let byField: [FieldIndex]
    /// Number of rules that apply to the stream.
    let ruleCount: Int

    /// - Parameter maxScreenBytes: the most the literal screen's tables may take.
    init(rules: RuleSet, for logSource: LogSource, maxScreenBytes: Int = DetectionEngine.Limits.default.maxScreenBytes) {
        self.logSource = logSource
        self.detections = rules.detections
        var always: [Int] = []
        var tables: [Int: [String: [Int]]] = [:]
        var needs: [LiteralNeed?] = Array(repeating: nil, count: rules.detections.count)
        var count = 0
        for (index, rule) in rules.detections.enumerated() where rule.logSource.applies(to: logSource) {
            count += 1
            if let requirement = rule.condition.requirement(rule.searches) {
                // Keys as written in the rule and lowercased: log values usually have the rule's case,
                // so most lookups hit without lowercasing the event's value.
                var keys = requirement.values
                keys.formUnion(requirement.written)
                keys.formUnion(requirement.values.map { $0.uppercased() })
                for value in keys { tables[requirement.slot, default: [:]][value, default: []].append(index) }
                // Screened too by what it needs in other fields (`cs-method: GET` and a keyword
                // list): the index alone would test it on most events.
                if !rule.decidedByIndex {
                    needs[index] = rule.condition.literalNeed(rule.searches, excluding: requirement.slot)
                }
            } else {
                always.append(index)
                needs[index] = rule.condition.literalNeed(rule.searches)
            }
        }
        self.always = always
        var alwaysBits = Array(repeating: UInt64(0), count: (rules.detections.count + 63) / 64)
        for index in always { alwaysBits[index >> 6] |= 1 << UInt64(index & 63) }
        self.alwaysBits = alwaysBits
        let screen = RuleScreen(needs: needs, maxBytes: maxScreenBytes)
        self.screen = screen.screenedCount > 0 ? screen : nil
        self.unscreenedOverLimit = screen.overLimitCount
        self.byField = tables.keys.sorted().map { FieldIndex(slot: $0, rules: TextTable(tables[$0]!)) }
        self.ruleCount = count
    }

    /// Calls `body` with each rule index that `event` matches, in rule order per group.
    @inline(__always)
    func forEachMatch(_ event: EventRecord, _ body: (Int) -> Void) {
        // Rules are read in place through the buffer (indexing the array would copy each rule).
        detections.withUnsafeBufferPointer { rules in
            guard let base = rules.baseAddress else { return }
            guard let screen else {
                for index in always where DetectionRule.matches(base + index, event) { body(index) }
                matchIndexed(base, event) { _ in true } body: { body($0) }
                return
            }
            screen.withHits(event) { hits in
                alwaysBits.withUnsafeBufferPointer { alwaysBits in
                    for word in alwaysBits.indices {
                        var bits = alwaysBits[word] & hits[word]
                        while bits != 0 {
                            let index = word << 6 | bits.trailingZeroBitCount
                            bits &= bits &- 1
                            if DetectionRule.matches(base + index, event) { body(index) }
                        }
                    }
                }
                matchIndexed(base, event) { hits[$0 >> 6] & (1 << UInt64($0 & 63)) != 0 } body: { body($0) }
            }
        }
    }

    /// Calls `body` with each rule of the field indexes that `event` matches, among those `may`
    /// lets through.
    @inline(__always)
    private func matchIndexed(_ base: UnsafePointer<DetectionRule>, _ event: EventRecord, may: (Int) -> Bool, body: (Int) -> Void) {
        // The field indexes are read in place (a copy would retain each of their arrays).
        byField.withUnsafeBufferPointer { fields in
            for k in fields.indices {
                let slot = fields[k].slot
                // Text held as bytes is looked up from them; other values (and text with
                // non-ASCII letters in mixed case) through a `String`.
                let table = fields[k].unretained
                let entry = event.withText(slot) { bytes in
                    bytes.map { bytes in table._withUnsafeGuaranteedRef { $0.entry(bytes: bytes) } } ?? TextTable.useValue
                }
                if entry >= 0 {
                    table._withUnsafeGuaranteedRef { table in
                        table.withRules(entry) { candidates in
                            for index in candidates where may(index) && (base[index].decidedByIndex || { return DetectionRule.matches(base + index, event) }()) {
                                body(index)
                            }
                        }
                    }
                    continue
                }
                guard entry == TextTable.useValue, let value = event[slot], let candidates = Self.lookup(fields[k].rules, value) else {
                    continue
                }
                for index in candidates where may(index) && (base[index].decidedByIndex || { return DetectionRule.matches(base + index, event) }()) {
                    body(index)
                }
            }
        }
    }

    @inline(__always)
    static func lookup(_ table: TextTable, _ value: FieldValue) -> [Int]? {
        switch value {
        case .string(let text):
            if let hit = table[text] { return hit }
            // Keys are stored lower- and upper-cased: a value in one case throughout has missed for good.
            var lower = false, upper = false
            for byte in text.utf8 {
                if byte >= 0x80 { lower = true; upper = true; break }
                if byte &- 0x61 < 26 { lower = true } else if byte &- 0x41 < 26 { upper = true }
            }
            return lower && upper ? table[text.lowercased()] : nil
        case .list(let elements):
            // Any element may match; gather candidates once each.
            var all: [Int] = []
            for element in elements { for index in lookup(table, element) ?? [] where !all.contains(index) { all.append(index) } }
            return all.isEmpty ? nil : all
        case .null: return nil
        default:
            return value.text.flatMap { table[$0.lowercased()] }
        }
    }
}

/// A small read-only map from text to rule indices, probed with ``KeyHasher`` (a lookup per event
/// on the hot path costs a few nanoseconds instead of a SipHash). Keys are compared by their UTF-8
/// bytes, so text held as bytes is looked up without making a `String`.
final class TextTable: Sendable {
    /// Key bytes, one after another; entry `i`'s are at `keyStarts[i]..<keyStarts[i + 1]`.
    private let keyBytes: [UInt8]
    private let keyStarts: [Int]
    private let values: [[Int]]
    /// `values` flattened: entry `i`'s rules are `rules[ruleStarts[i]..<ruleStarts[i + 1]]` (reading
    /// an inner array in place retained it, on every event).
    private let rules: [Int]
    private let ruleStarts: [Int]
    /// Bucket -> entry + 1 (0 is empty).
    private let buckets: [Int32]
    private let mask: Int
    private let hasher = KeyHasher()

    /// ``entry(bytes:)``: not found.
    static let absent = -1
    /// ``entry(bytes:)``: the bytes need the `String` lookup (non-ASCII letters in mixed case).
    static let useValue = -2

    init(_ entries: [String: [Int]]) {
        let keys = entries.keys.sorted()
        values = keys.map { entries[$0]! }
        rules = values.flatMap { $0 }
        ruleStarts = values.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        var bytes: [UInt8] = [], starts: [Int] = [0]
        for key in keys { bytes += Array(key.utf8); starts.append(bytes.count) }
        keyBytes = bytes
        keyStarts = starts
        var size = 8
        while size < keys.count * 2 { size *= 2 }
        var buckets = Array(repeating: Int32(0), count: size)
        mask = size - 1
        let seed = hasher.seed
        for (index, key) in keys.enumerated() {
            var bucket = Int(truncatingIfNeeded: Array(key.utf8).withUnsafeBufferPointer { KeyHasher.bytes($0, seed) }) & mask
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = Int32(index + 1)
        }
        self.buckets = buckets
    }

    /// The entry whose key is exactly `bytes`, or ``absent``.
    @inline(__always)
    private func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var bucket = Int(truncatingIfNeeded: KeyHasher.bytes(bytes, hasher.seed)) & mask
        return keyBytes.withUnsafeBufferPointer { keys in
            while true {
                let entry = Int(buckets[bucket])
                if entry == 0 { return Self.absent }
                let start = keyStarts[entry - 1], length = keyStarts[entry] - start
                if length == bytes.count, length == 0 || WordBytes.same(keys.baseAddress! + start, bytes.baseAddress!, length) {
                    return entry - 1
                }
                bucket = (bucket + 1) & mask
            }
        }
    }

    /// The entry for the text whose UTF-8 bytes are `bytes`, matched case-insensitively as the
    /// rules' values are: ``absent`` when none, ``useValue`` when only a `String` can tell.
    @inline(__always)
    func entry(bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let exact = find(bytes)
        if exact >= 0 { return exact }
        // Keys are stored lower- and upper-cased: a value in one case throughout has missed for good.
        var lower = false, upper = false
        for byte in bytes {
            if byte >= 0x80 { return Self.useValue }
            if byte &- 0x61 < 26 { lower = true } else if byte &- 0x41 < 26 { upper = true }
        }
        guard lower, upper else { return Self.absent }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { lowered in
            for (index, byte) in bytes.enumerated() { lowered[index] = byte &- 0x41 < 26 ? byte | 0x20 : byte }
            return find(UnsafeBufferPointer(lowered))
        }
    }

    /// Calls `body` with the rule indices of `entry`, read in place.
    @inline(__always)
    func withRules(_ entry: Int, _ body: (UnsafeBufferPointer<Int>) -> Void) {
        let start = ruleStarts[entry], end = ruleStarts[entry + 1]
        rules.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    @inline(__always)
    subscript(text: String) -> [Int]? {
        var text = text
        let entry = text.withUTF8 { find($0) }
        return entry >= 0 ? values[entry] : nil
    }
}

