import Yams

/// A baseline document's `baseline:` section (a `bl_*.yml` file), checked and parsed; its
/// references are resolved by ``RuleLoader`` against the detection rules.
enum BaselineParser {
    struct Parsed {
        var kind: BaselineRule.Kind
        var references: [String]
        var referenceLine: Int
        var groupBy: [String]
        var timespan: Timespan
        var generate: Bool
    }

    static let types = ["regularity", "first_seen", "rate"]
    /// The attributes each type takes beside the common ones.
    static let attributes = ["regularity": ["repetitions", "max-variation", "min-interval"], "first_seen": ["field", "learning"],
                             "rate": ["history", "min-history", "deviations", "min-count"]]

    /// Parses the `baseline:` section `body` of the document `root`.
    static func parse(_ body: Node, root: Node) throws(RuleLoadError) -> Parsed {
        guard case .mapping = body else {
            throw RuleLoadError(.baseline, "'baseline' must be a mapping with type, rules, group-by, timespan and the type's parameters", line: YAMLAccess.line(body))
        }
        let known: Set = ["type", "rules", "group-by", "timespan", "repetitions", "max-variation", "min-interval", "field", "learning",
                          "history", "min-history", "deviations", "min-count", "generate"]
        for (key, keyNode, _) in YAMLAccess.pairs(body) ?? [] where !known.contains(key) {
            throw RuleLoadError(.baseline, "unknown baseline attribute '\(key)'; expected: \(known.sorted().joined(separator: ", "))", line: YAMLAccess.line(keyNode))
        }
        guard let typeNode = YAMLAccess.value(body, "type"), let type = YAMLAccess.scalarText(typeNode) else {
            throw RuleLoadError(.baseline, "the baseline needs a 'type': \(types.joined(separator: ", "))", line: YAMLAccess.line(body))
        }
        guard types.contains(type) else {
            throw RuleLoadError(.baseline, "unknown baseline type '\(type)'; expected one of \(types.joined(separator: ", "))", line: YAMLAccess.line(typeNode))
        }
        for (other, names) in attributes where other != type {
            for name in names where !(attributes[type] ?? []).contains(name) {
                if let node = YAMLAccess.value(body, name) {
                    throw RuleLoadError(.baseline, "'\(name)' belongs to \(other), not \(type); \(type) takes \((attributes[type] ?? []).joined(separator: ", "))", line: YAMLAccess.line(node))
                }
            }
        }
        guard let rulesNode = YAMLAccess.value(body, "rules"), let references = YAMLAccess.strings(rulesNode), !references.isEmpty else {
            throw RuleLoadError(.baseline, "the baseline needs 'rules': the ids or names of the detection rules whose events it watches", line: YAMLAccess.line(body))
        }
        if references.count > 64 {
            throw RuleLoadError(.baseline, "a baseline watches at most 64 rules (this one lists \(references.count))", line: YAMLAccess.line(rulesNode))
        }
        var groupBy: [String] = []
        if let node = YAMLAccess.value(body, "group-by") {
            guard let list = YAMLAccess.strings(node) else {
                throw RuleLoadError(.baseline, "'group-by' must be a list of field names", line: YAMLAccess.line(node))
            }
            groupBy = list
        }
        let timespan = try span(body, "timespan", required: true)!
        var generate = false
        for node in [YAMLAccess.value(root, "generate"), YAMLAccess.value(body, "generate")].compactMap({ $0 }) {
            guard let value = YAMLAccess.bool(node) else { throw RuleLoadError(.baseline, "'generate' must be true or false", line: YAMLAccess.line(node)) }
            generate = generate || value
        }

        if type == "first_seen" {
            guard let fieldNode = YAMLAccess.value(body, "field"), let field = YAMLAccess.scalarText(fieldNode), !field.isEmpty else {
                throw RuleLoadError(.baseline, "first_seen needs 'field': the field whose new values it reports (such as ip_address)", line: YAMLAccess.line(body))
            }
            if groupBy.contains(field) {
                throw RuleLoadError(.baseline, "'field' (\(field)) is also a group-by field: each group would have one value, never a new one", line: YAMLAccess.line(fieldNode))
            }
            guard let learning = try span(body, "learning", required: false) else {
                throw RuleLoadError(.baseline, "first_seen needs 'learning': how long a value stays known, and how long a group is watched before its new values alert (such as 7d)", line: YAMLAccess.line(body))
            }
            if learning.microseconds <= timespan.microseconds {
                throw RuleLoadError(.baseline, "'learning' (\(learning.text)) must be longer than 'timespan' (\(timespan.text)): a learning period shorter than the window would call every value new", line: YAMLAccess.line(body))
            }
            return Parsed(kind: .firstSeen(learning: learning.microseconds, field: field), references: references,
                          referenceLine: YAMLAccess.line(rulesNode), groupBy: groupBy, timespan: timespan, generate: generate)
        }

        if type == "rate" {
            func whole(_ name: String, _ range: ClosedRange<Double>, _ meaning: String, default value: Double? = nil) throws(RuleLoadError) -> Int {
                guard let node = YAMLAccess.value(body, name) else {
                    if let value { return Int(value) }
                    throw RuleLoadError(.baseline, "rate needs '\(name)': \(meaning)", line: YAMLAccess.line(body))
                }
                guard let number = YAMLAccess.number(node), number.rounded() == number, range.contains(number) else {
                    throw RuleLoadError(.baseline, "'\(name)' must be a whole number from \(Int(range.lowerBound)) to \(Int(range.upperBound)) (\(meaning))", line: YAMLAccess.line(node))
                }
                return Int(number)
            }
            let history = try whole("history", 2...10_000, "how many timespans before the current one make its baseline")
            let minHistory = try whole("min-history", 1...10_000, "how many timespans a group needs before it may fire")
            if minHistory > history {
                throw RuleLoadError(.baseline, "'min-history' (\(minHistory)) cannot be more than 'history' (\(history)): the baseline keeps only \(history) timespans", line: YAMLAccess.line(body))
            }
            let minCount = try whole("min-count", 1...1_000_000_000, "the fewest events in a timespan that may fire", default: 1)
            guard let deviationsNode = YAMLAccess.value(body, "deviations") else {
                throw RuleLoadError(.baseline, "rate needs 'deviations': how many median absolute deviations above the median is too many (such as 5)", line: YAMLAccess.line(body))
            }
            guard let deviations = YAMLAccess.number(deviationsNode), deviations > 0, deviations <= 1000 else {
                throw RuleLoadError(.baseline, "'deviations' must be a number above 0 (5: five median absolute deviations above the median)", line: YAMLAccess.line(deviationsNode))
            }
            return Parsed(kind: .rate(history: history, minHistory: minHistory, deviations: deviations, minCount: minCount), references: references,
                          referenceLine: YAMLAccess.line(rulesNode), groupBy: groupBy, timespan: timespan, generate: generate)
        }

        // regularity
        guard let repetitionsNode = YAMLAccess.value(body, "repetitions") else {
            throw RuleLoadError(.baseline, "regularity needs 'repetitions': how many occurrences in a row must be regular (at least 3)", line: YAMLAccess.line(body))
        }
        guard let repetitions = YAMLAccess.number(repetitionsNode), repetitions.rounded() == repetitions, (3...1000).contains(repetitions) else {
            throw RuleLoadError(.baseline, "'repetitions' must be a whole number from 3 to 1000 (it takes three occurrences to compare two gaps)", line: YAMLAccess.line(repetitionsNode))
        }
        guard let variationNode = YAMLAccess.value(body, "max-variation") else {
            throw RuleLoadError(.baseline, "regularity needs 'max-variation': the largest standard deviation of the gaps, as a fraction of their mean, that counts as machine-regular (such as 0.1)", line: YAMLAccess.line(body))
        }
        guard let variation = YAMLAccess.number(variationNode), variation > 0, variation < 1 else {
            throw RuleLoadError(.baseline, "'max-variation' must be a number between 0 and 1 (0.1: gaps within about 10 % of their mean)", line: YAMLAccess.line(variationNode))
        }
        let minInterval = try span(body, "min-interval", required: false) ?? Timespan(microseconds: 1_000_000, text: "1s")
        if minInterval.microseconds >= timespan.microseconds {
            throw RuleLoadError(.baseline, "'min-interval' (\(minInterval.text)) must be shorter than 'timespan' (\(timespan.text)), the longest gap kept", line: YAMLAccess.line(body))
        }
        return Parsed(kind: .regularity(repetitions: Int(repetitions), maxVariation: variation, minInterval: minInterval.microseconds),
                      references: references, referenceLine: YAMLAccess.line(rulesNode), groupBy: groupBy, timespan: timespan, generate: generate)
    }

    private static func span(_ body: Node, _ key: String, required: Bool) throws(RuleLoadError) -> Timespan? {
        guard let node = YAMLAccess.value(body, key) else {
            if required { throw RuleLoadError(.baseline, "the baseline needs a '\(key)' such as 30s, 5m, 1h or 1d", line: YAMLAccess.line(body)) }
            return nil
        }
        guard let text = YAMLAccess.scalarText(node), let span = Timespan(text) else {
            throw RuleLoadError(.baseline, "\(key) '\(YAMLAccess.scalarText(node) ?? "")' is not a number followed by s, m, h or d (like 5m)", line: YAMLAccess.line(node))
        }
        return span
    }
}
