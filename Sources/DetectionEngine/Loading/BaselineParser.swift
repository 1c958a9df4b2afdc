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

    static let types = ["regularity"]

    /// Parses the `baseline:` section `body` of the document `root`.
    static func parse(_ body: Node, root: Node) throws(RuleLoadError) -> Parsed {
        guard case .mapping = body else {
            throw RuleLoadError(.baseline, "'baseline' must be a mapping with type, rules, group-by, timespan and the type's parameters", line: YAMLAccess.line(body))
        }
        let known: Set = ["type", "rules", "group-by", "timespan", "repetitions", "max-variation", "min-interval", "generate"]
        for (key, keyNode, _) in YAMLAccess.pairs(body) ?? [] where !known.contains(key) {
            throw RuleLoadError(.baseline, "unknown baseline attribute '\(key)'; expected: \(known.sorted().joined(separator: ", "))", line: YAMLAccess.line(keyNode))
        }
        guard let typeNode = YAMLAccess.value(body, "type"), let type = YAMLAccess.scalarText(typeNode) else {
            throw RuleLoadError(.baseline, "the baseline needs a 'type': \(types.joined(separator: ", "))", line: YAMLAccess.line(body))
        }
        guard types.contains(type) else {
            throw RuleLoadError(.baseline, "unknown baseline type '\(type)'; expected one of \(types.joined(separator: ", "))", line: YAMLAccess.line(typeNode))
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
