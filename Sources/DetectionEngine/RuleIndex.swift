import SecurityModel

/// The detection rules that apply to one stream, indexed by the values they require, so that an
/// event is tested only against rules it could match.
///
/// A rule whose condition implies `field == one of {values}` (for example `action: LOGIN_FAILURE`)
/// is filed under that field and those values; other rules are tested on every event.
struct RuleIndex: Sendable {
    struct FieldIndex: Sendable {
        let slot: Int
        /// Lowercased value -> rule indices.
        let rules: [String: [Int]]
    }

    let logSource: LogSource
    let always: [Int]
    let byField: [FieldIndex]
    /// Number of rules that apply to the stream.
    let ruleCount: Int

    init(rules: RuleSet, for logSource: LogSource) {
        self.logSource = logSource
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
        self.byField = tables.keys.sorted().map { FieldIndex(slot: $0, rules: tables[$0]!) }
        self.ruleCount = count
    }

    /// Calls `body` with each rule index that `event` matches, in rule order per group.
    @inline(__always)
    func forEachMatch(_ rules: RuleSet, _ event: EventRecord, _ body: (Int) -> Void) {
        for index in always where rules.detections[index].matches(event) { body(index) }
        for field in byField {
            guard let value = event[field.slot], let candidates = Self.lookup(field.rules, value) else { continue }
            for index in candidates where rules.detections[index].decidedByIndex || rules.detections[index].matches(event) {
                body(index)
            }
        }
    }

    @inline(__always)
    static func lookup(_ table: [String: [Int]], _ value: FieldValue) -> [Int]? {
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
