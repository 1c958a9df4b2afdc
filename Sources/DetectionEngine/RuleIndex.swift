import SecurityModel

/// The detection rules that apply to one stream, indexed by the values they require, so that an
/// event is tested only against rules it could match.
///
/// A rule whose condition implies `field == one of {values}` (for example `action: LOGIN_FAILURE`)
/// is filed under that field and those values; other rules are tested on every event.
final class RuleIndex: Sendable {
    struct FieldIndex: Sendable {
        let slot: Int
        /// Value (as written, lower- and upper-cased) -> rule indices.
        let rules: TextTable
    }

    let logSource: LogSource
    /// The rule set's detection rules (held here so that matching copies nothing per event).
    let detections: [DetectionRule]
    let always: [Int]
    let byField: [FieldIndex]
    /// Number of rules that apply to the stream.
    let ruleCount: Int

    init(rules: RuleSet, for logSource: LogSource) {
        self.logSource = logSource
        self.detections = rules.detections
        var always: [Int] = []
        var tables: [Int: [String: [Int]]] = [:]
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
            } else {
                always.append(index)
            }
        }
        self.always = always
        self.byField = tables.keys.sorted().map { FieldIndex(slot: $0, rules: TextTable(tables[$0]!)) }
        self.ruleCount = count
    }

    /// Calls `body` with each rule index that `event` matches, in rule order per group.
    @inline(__always)
    func forEachMatch(_ event: EventRecord, _ body: (Int) -> Void) {
        // Rules are read in place through the buffer (indexing the array would copy each rule).
        detections.withUnsafeBufferPointer { rules in
            guard let base = rules.baseAddress else { return }
            for index in always where DetectionRule.matches(base + index, event) { body(index) }
            for field in byField {
                guard let value = event[field.slot], let candidates = Self.lookup(field.rules, value) else { continue }
                for index in candidates where base[index].decidedByIndex || DetectionRule.matches(base + index, event) {
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
/// on the hot path costs a few nanoseconds instead of a SipHash).
struct TextTable: Sendable {
    private let keys: [String]
    private let values: [[Int]]
    /// Bucket -> entry + 1 (0 is empty).
    private let buckets: [Int32]
    private let mask: Int
    private let hasher = KeyHasher()

    init(_ entries: [String: [Int]]) {
        keys = Array(entries.keys)
        values = keys.map { entries[$0]! }
        var size = 8
        while size < keys.count * 2 { size *= 2 }
        var buckets = Array(repeating: Int32(0), count: size)
        mask = size - 1
        for (index, key) in keys.enumerated() {
            var bucket = Int(truncatingIfNeeded: Self.hash(key, hasher)) & mask
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = Int32(index + 1)
        }
        self.buckets = buckets
    }

    @inline(__always)
    private static func hash(_ text: String, _ hasher: KeyHasher) -> UInt64 {
        text.utf8.withContiguousStorageIfAvailable { KeyHasher.bytes($0, hasher.seed) }
            ?? Array(text.utf8).withUnsafeBufferPointer { KeyHasher.bytes($0, hasher.seed) }
    }

    @inline(__always)
    subscript(text: String) -> [Int]? {
        var bucket = Int(truncatingIfNeeded: Self.hash(text, hasher)) & mask
        while true {
            let entry = Int(buckets[bucket])
            if entry == 0 { return nil }
            if keys[entry - 1] == text { return values[entry - 1] }
            bucket = (bucket + 1) & mask
        }
    }
}
