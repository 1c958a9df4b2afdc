import Yams

/// Compiles a Sigma `detection` section (search identifiers plus `condition`).
struct DetectionCompiler {
    struct Output {
        let searches: [SearchIdentifier]
        let condition: ConditionExpression
    }

    /// - Parameters:
    ///   - section: the `detection:` mapping (or a filter's `filter:` mapping).
    ///   - ignoredKeys: keys that are not search identifiers (`rules` in a filter).
    ///   - placeholders: the lists `expand` values resolve to; the names used are recorded there.
    static func compile(_ section: Node, ignoredKeys: Set<String> = [], slot: (String) -> Int, placeholders: PlaceholderUse = PlaceholderUse()) throws(RuleLoadError) -> Output {
        guard let pairs = YAMLAccess.pairs(section) else {
            throw RuleLoadError(.detection, "'detection' must be a mapping of search identifiers plus 'condition'", line: YAMLAccess.line(section))
        }
        var searches: [SearchIdentifier] = []
        var conditionNode: Node?
        for (key, keyNode, value) in pairs {
            if key == "condition" { conditionNode = value; continue }
            if key == "timeframe" {
                throw RuleLoadError(.detection, "'timeframe' is the obsolete Sigma 1 aggregation; write a correlation rule with a 'timespan' instead", line: YAMLAccess.line(keyNode))
            }
            if ignoredKeys.contains(key) { continue }
            searches.append(try compileSearch(name: key, keyNode: keyNode, value: value, slot: slot, placeholders: placeholders))
        }
        guard let conditionNode else {
            throw RuleLoadError(.detection, "the detection has no 'condition' (for example 'condition: selection')", line: YAMLAccess.line(section))
        }
        guard !searches.isEmpty else {
            throw RuleLoadError(.detection, "the detection defines no search identifier", line: YAMLAccess.line(section))
        }
        let texts: [String]
        switch conditionNode {
        case .scalar(let scalar): texts = [scalar.string]
        case .sequence:
            guard let list = YAMLAccess.strings(conditionNode), !list.isEmpty else {
                throw RuleLoadError(.detection, "'condition' must be a string (or a list of strings, OR-ed)", line: YAMLAccess.line(conditionNode))
            }
            texts = list
        default:
            throw RuleLoadError(.detection, "'condition' must be a string", line: YAMLAccess.line(conditionNode))
        }
        var parser = ConditionParser(names: searches.map(\.name))
        var expressions: [ConditionExpression] = []
        for text in texts {
            do {
                expressions.append(try parser.parse(text))
            } catch {
                throw RuleLoadError(.detection, "condition '\(text)': \(error.message)", line: YAMLAccess.line(conditionNode))
            }
        }
        return Output(searches: searches, condition: expressions.count == 1 ? expressions[0] : .or(expressions))
    }

    private static func compileSearch(name: String, keyNode: Node, value: Node, slot: (String) -> Int, placeholders: PlaceholderUse) throws(RuleLoadError) -> SearchIdentifier {
        func fields(_ mapping: Node) throws(RuleLoadError) -> [SearchIdentifier.FieldTest] {
            guard let pairs = YAMLAccess.pairs(mapping), !pairs.isEmpty else {
                throw RuleLoadError(.detection, "search '\(name)': expected a mapping of field: value", line: YAMLAccess.line(mapping))
            }
            var tests: [SearchIdentifier.FieldTest] = []
            for (key, keyNode, value) in pairs {
                do {
                    tests.append(try ValueCompiler.compile(key: key, keyLine: YAMLAccess.line(keyNode), value: value, slot: slot, placeholders: placeholders))
                } catch {
                    throw RuleLoadError(error.code, "search '\(name)': \(error.message)", line: error.line)
                }
            }
            return tests
        }
        switch value {
        case .mapping:
            if let pairs = YAMLAccess.pairs(value), pairs.count == 1, pairs[0].0.hasPrefix("|") {
                return try keywordsWithModifiers(name: name, key: pairs[0].0, keyNode: pairs[0].1, value: pairs[0].2)
            }
            return SearchIdentifier(name: name, body: .fields([try fields(value)]))
        case .sequence(let sequence):
            let items = Array(sequence)
            guard !items.isEmpty else { throw RuleLoadError(.detection, "search '\(name)' is an empty list", line: YAMLAccess.line(value)) }
            if items.allSatisfy({ if case .mapping = $0 { return true }; return false }) {
                var alternatives: [[SearchIdentifier.FieldTest]] = []
                for item in items { alternatives.append(try fields(item)) }
                return SearchIdentifier(name: name, body: .fields(alternatives))
            }
            if items.allSatisfy({ if case .scalar = $0 { return true }; return false }) {
                return SearchIdentifier(name: name, body: .keywords(items.map { keywordPattern(YAMLAccess.scalarText($0) ?? "") }, all: false))
            }
            throw RuleLoadError(.detection, "search '\(name)' mixes mappings and plain values; use a list of mappings (OR of field sets) or a list of keywords", line: YAMLAccess.line(value))
        case .scalar(let scalar):
            return SearchIdentifier(name: name, body: .keywords([keywordPattern(scalar.string)], all: false))
        case .alias:
            throw RuleLoadError(.detection, "search '\(name)': YAML aliases are not supported in detections", line: YAMLAccess.line(keyNode))
        }
    }

    /// A keyword list under modifiers without a field (`keywords: {'|all': [a, b]}`): every keyword
    /// must occur. `all` is the one modifier keywords take.
    private static func keywordsWithModifiers(name: String, key: String, keyNode: Node, value: Node) throws(RuleLoadError) -> SearchIdentifier {
        let modifiers = key.split(separator: "|").map(String.init)
        guard modifiers == ["all"] else {
            throw RuleLoadError(.detection, "search '\(name)': '\(key)': keyword lists take only the 'all' modifier ('|all': every keyword must occur); to test a field, write its name before the modifiers", line: YAMLAccess.line(keyNode))
        }
        let items: [Node]
        if case .sequence(let sequence) = value { items = Array(sequence) } else { items = [value] }
        guard !items.isEmpty, items.allSatisfy({ if case .scalar = $0 { return true }; return false }) else {
            throw RuleLoadError(.detection, "search '\(name)': '\(key)' needs a keyword or a list of keywords", line: YAMLAccess.line(value) == 0 ? YAMLAccess.line(keyNode) : YAMLAccess.line(value))
        }
        return SearchIdentifier(name: name, body: .keywords(items.map { keywordPattern(YAMLAccess.scalarText($0) ?? "") }, all: true))
    }

    /// Keywords search anywhere in the line.
    static func keywordPattern(_ keyword: String) -> TextPattern {
        var pattern = keyword
        if !pattern.hasPrefix("*") { pattern = "*" + pattern }
        if !pattern.hasSuffix("*") || pattern.hasSuffix("\\*") { pattern += "*" }
        return TextPattern(sigma: pattern)
    }
}
