import SecurityModel

/// One named search of a Sigma `detection` section (`selection:`, `filter_admin:`), compiled.
///
/// A map is an AND of field tests; a list of maps is an OR of such ANDs; a list of bare strings
/// is a keyword search over the raw line (any of them, or all with Sigma's `'|all': [...]`).
struct SearchIdentifier: Sendable {
    struct FieldTest: Sendable {
        let slot: Int
        let field: String
        let test: ValueTest
        /// Lowercased exact values this test requires (for the rule index), if it is a plain equality.
        let exactValues: [String]?
        /// The same values as written in the rule.
        var writtenValues: [String] = []
    }

    enum Body: Sendable {
        /// OR over alternatives, each an AND of field tests.
        case fields([[FieldTest]])
        /// Patterns over the raw line: any of them, or with `all` every one.
        case keywords([TextPattern], all: Bool)
    }

    let name: String
    let body: Body

    func matches(_ event: EventRecord) -> Bool {
        switch body {
        case .fields(let alternatives):
            outer: for all in alternatives {
                for test in all where !test.test.matches(event[test.slot], in: event) { continue outer }
                return true
            }
            return false
        case .keywords(let patterns, let all):
            if all { return patterns.allSatisfy { $0.matches(event.raw) } }
            for pattern in patterns where pattern.matches(event.raw) { return true }
            return false
        }
    }

    /// Adds the slots this search reads (fields and `fieldref` targets).
    func collectSlots(into slots: inout Set<Int>) {
        guard case .fields(let alternatives) = body else { return }
        for all in alternatives {
            for test in all {
                slots.insert(test.slot)
                test.test.collectSlots(into: &slots)
            }
        }
    }

    /// A (field slot, lowercased values) requirement every match satisfies, if one exists.
    var requirement: Requirement? {
        guard case .fields(let alternatives) = body, !alternatives.isEmpty else { return nil }
        // Every alternative must constrain the same slot with exact values.
        var result: Requirement?
        for all in alternatives {
            guard let test = all.first(where: { $0.exactValues != nil }), let values = test.exactValues else { return nil }
            let exhaustive = alternatives.count == 1 && all.count == 1
            if let current = result {
                guard current.slot == test.slot else { return nil }
                result = Requirement(slot: current.slot, values: current.values.union(values),
                                     written: current.written.union(test.writtenValues), exhaustive: false)
            } else {
                result = Requirement(slot: test.slot, values: Set(values), written: Set(test.writtenValues), exhaustive: exhaustive)
            }
        }
        return result
    }
}

/// A field and the values one of which every matching event has (used to index rules).
struct Requirement: Sendable {
    let slot: Int
    let values: Set<String>
    let written: Set<String>
    /// Whether having one of the values is all the search asks (the index then decides alone).
    let exhaustive: Bool
}
