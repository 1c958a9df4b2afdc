import Yams

/// A correlation document's `correlation:` section, checked and parsed (its references are
/// resolved later, by ``CorrelationGraph``).
enum CorrelationParser {
    struct ParsedCorrelation {
        var type: CorrelationType
        var references: [String]
        var referenceLine: Int
        var groupBy: [String]
        var timespan: Timespan
        var condition: CorrelationCondition?
        var field: String?
        var aliases: [String: [String: String]]
        var generate: Bool
    }


    /// Parses the `correlation:` section `body` of the document `root`.
    static func parse(_ body: Node, root: Node) throws(RuleLoadError) -> ParsedCorrelation {
        guard case .mapping = body else {
            throw RuleLoadError(.correlation, "'correlation' must be a mapping with type, rules, group-by, timespan and condition", line: YAMLAccess.line(body))
        }
        let known: Set = ["type", "rules", "group-by", "timespan", "condition", "aliases", "generate"]
        for (key, keyNode, _) in YAMLAccess.pairs(body) ?? [] where !known.contains(key) {
            throw RuleLoadError(.correlation, "unknown correlation attribute '\(key)'; expected: \(known.sorted().joined(separator: ", "))", line: YAMLAccess.line(keyNode))
        }
        guard let typeNode = YAMLAccess.value(body, "type"), let typeText = YAMLAccess.scalarText(typeNode) else {
            throw RuleLoadError(.correlation, "the correlation needs a 'type': \(CorrelationType.allCases.map(\.rawValue).joined(separator: ", "))", line: YAMLAccess.line(body))
        }
        guard let type = CorrelationType(rawValue: typeText) else {
            throw RuleLoadError(.correlation, "unknown correlation type '\(typeText)'; expected one of \(CorrelationType.allCases.map(\.rawValue).joined(separator: ", "))", line: YAMLAccess.line(typeNode))
        }
        guard let rulesNode = YAMLAccess.value(body, "rules"), let references = YAMLAccess.strings(rulesNode), !references.isEmpty else {
            throw RuleLoadError(.correlation, "the correlation needs 'rules': the ids or names of the rules it correlates", line: YAMLAccess.line(body))
        }
        if (type == .temporal || type == .temporalOrdered), references.count < 2 {
            throw RuleLoadError(.correlation, "\(type.rawValue) needs at least two rules", line: YAMLAccess.line(rulesNode))
        }
        if references.count > 64 {
            throw RuleLoadError(.correlation, "a correlation lists at most 64 rules (this one lists \(references.count)); split it into chained correlations", line: YAMLAccess.line(rulesNode))
        }
        var groupBy: [String] = []
        if let node = YAMLAccess.value(body, "group-by") {
            guard let list = YAMLAccess.strings(node) else {
                throw RuleLoadError(.correlation, "'group-by' must be a list of field names", line: YAMLAccess.line(node))
            }
            groupBy = list
        }
        guard let spanNode = YAMLAccess.value(body, "timespan") else {
            throw RuleLoadError(.correlation, "the correlation needs a 'timespan' such as 30s, 5m, 1h or 1d", line: YAMLAccess.line(body))
        }
        guard let spanText = YAMLAccess.scalarText(spanNode), let timespan = Timespan(spanText) else {
            throw RuleLoadError(.correlation, "timespan '\(YAMLAccess.scalarText(spanNode) ?? "")' is not a number followed by s, m, h or d (like 5m)", line: YAMLAccess.line(spanNode))
        }
        var condition: CorrelationCondition?
        var field: String?
        if let node = YAMLAccess.value(body, "condition") {
            guard let pairs = YAMLAccess.pairs(node) else {
                throw RuleLoadError(.correlation, "'condition' must be a mapping such as {gt: 3} or {gte: 10, lte: 20}", line: YAMLAccess.line(node))
            }
            var comparisons: [CorrelationCondition.Comparison] = []
            for (key, keyNode, value) in pairs {
                if key == "field" {
                    guard let text = YAMLAccess.scalarText(value) else { throw RuleLoadError(.correlation, "'field' must be a field name", line: YAMLAccess.line(value)) }
                    field = text
                    continue
                }
                guard let op = ComparisonOperator(rawValue: key) else {
                    throw RuleLoadError(.correlation, "unknown condition '\(key)'; use gt, gte, lt, lte, eq or neq (two of them form a range)", line: YAMLAccess.line(keyNode))
                }
                guard let bound = YAMLAccess.number(value) else {
                    throw RuleLoadError(.correlation, "condition '\(key)' needs a number", line: YAMLAccess.line(value))
                }
                comparisons.append(.init(op: op, bound: bound))
            }
            if comparisons.isEmpty { throw RuleLoadError(.correlation, "the condition has no comparison (gt, gte, lt, lte, eq, neq)", line: YAMLAccess.line(node)) }
            if comparisons.count > 2 { throw RuleLoadError(.correlation, "a condition has one comparison, or two forming a range", line: YAMLAccess.line(node)) }
            condition = CorrelationCondition(comparisons: comparisons)
        }
        if type.needsField, field == nil {
            throw RuleLoadError(.correlation, "\(type.rawValue) needs 'field' in its condition (the field whose values are counted or summed)", line: YAMLAccess.line(body))
        }
        if !type.needsField, field != nil {
            throw RuleLoadError(.correlation, "\(type.rawValue) does not use 'field'; remove it or use value_count", line: YAMLAccess.line(body))
        }
        if condition == nil, type != .temporal, type != .temporalOrdered {
            throw RuleLoadError(.correlation, "\(type.rawValue) needs a 'condition' such as {gt: 3}", line: YAMLAccess.line(body))
        }
        if type == .temporalOrdered, condition != nil {
            throw RuleLoadError(.correlation, "temporal_ordered matches when all rules match in order; a condition is not supported (use temporal for 'N of these rules')", line: YAMLAccess.line(body))
        }
        var aliases: [String: [String: String]] = [:]
        if let node = YAMLAccess.value(body, "aliases") {
            guard let pairs = YAMLAccess.pairs(node) else {
                throw RuleLoadError(.correlation, "'aliases' must map alias -> {rule name: field}", line: YAMLAccess.line(node))
            }
            for (alias, _, mapping) in pairs {
                guard let entries = YAMLAccess.pairs(mapping) else {
                    throw RuleLoadError(.correlation, "alias '\(alias)' must map rule names to field names", line: YAMLAccess.line(mapping))
                }
                var table: [String: String] = [:]
                for (rule, _, fieldNode) in entries {
                    guard let text = YAMLAccess.scalarText(fieldNode) else {
                        throw RuleLoadError(.correlation, "alias '\(alias)': the field for '\(rule)' must be a name", line: YAMLAccess.line(fieldNode))
                    }
                    table[rule] = text
                }
                aliases[alias] = table
            }
        }
        var generate = false
        for node in [YAMLAccess.value(root, "generate"), YAMLAccess.value(body, "generate")].compactMap({ $0 }) {
            guard let value = YAMLAccess.bool(node) else { throw RuleLoadError(.correlation, "'generate' must be true or false", line: YAMLAccess.line(node)) }
            generate = generate || value
        }
        return ParsedCorrelation(type: type, references: references, referenceLine: YAMLAccess.line(rulesNode),
                                 groupBy: groupBy, timespan: timespan, condition: condition, field: field,
                                 aliases: aliases, generate: generate)
    }
}
