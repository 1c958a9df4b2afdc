import Yams

/// Compiles a Sigma `detection` section (search identifiers plus `condition`).
struct DetectionCompiler {
    struct Failure: Error { let message: String; let line: Int }

    struct Output {
        let searches: [SearchIdentifier]
        let condition: ConditionExpression
    }

    /// - Parameters:
    ///   - section: the `detection:` mapping (or a filter's `filter:` mapping).
    ///   - ignoredKeys: keys that are not search identifiers (`rules` in a filter).
    static func compile(_ section: Node, ignoredKeys: Set<String> = [], slot: (String) -> Int) throws(Failure) -> Output {
        guard let pairs = YAMLAccess.pairs(section) else {
            throw Failure(message: "'detection' must be a mapping of search identifiers plus 'condition'", line: YAMLAccess.line(section))
        }
        var searches: [SearchIdentifier] = []
        var conditionNode: Node?
        for (key, keyNode, value) in pairs {
            if key == "condition" { conditionNode = value; continue }
            if key == "timeframe" {
                throw Failure(message: "'timeframe' is the obsolete Sigma 1 aggregation; write a correlation rule with a 'timespan' instead", line: YAMLAccess.line(keyNode))
            }
            if ignoredKeys.contains(key) { continue }
            searches.append(try compileSearch(name: key, keyNode: keyNode, value: value, slot: slot))
        }
        guard let conditionNode else {
            throw Failure(message: "the detection has no 'condition' (for example 'condition: selection')", line: YAMLAccess.line(section))
        }
        guard !searches.isEmpty else {
            throw Failure(message: "the detection defines no search identifier", line: YAMLAccess.line(section))
        }
        let texts: [String]
        switch conditionNode {
        case .scalar(let scalar): texts = [scalar.string]
        case .sequence:
            guard let list = YAMLAccess.strings(conditionNode), !list.isEmpty else {
                throw Failure(message: "'condition' must be a string (or a list of strings, OR-ed)", line: YAMLAccess.line(conditionNode))
            }
            texts = list
        default:
            throw Failure(message: "'condition' must be a string", line: YAMLAccess.line(conditionNode))
        }
        var parser = ConditionParser(names: searches.map(\.name))
        var expressions: [ConditionExpression] = []
        for text in texts {
            do {
                expressions.append(try parser.parse(text))
            } catch {
                throw Failure(message: "condition '\(text)': \(error.message)", line: YAMLAccess.line(conditionNode))
            }
        }
        return Output(searches: searches, condition: expressions.count == 1 ? expressions[0] : .or(expressions))
    }

    private static func compileSearch(name: String, keyNode: Node, value: Node, slot: (String) -> Int) throws(Failure) -> SearchIdentifier {
        func fields(_ mapping: Node) throws(Failure) -> [SearchIdentifier.FieldTest] {
            guard let pairs = YAMLAccess.pairs(mapping), !pairs.isEmpty else {
                throw Failure(message: "search '\(name)': expected a mapping of field: value", line: YAMLAccess.line(mapping))
            }
            var tests: [SearchIdentifier.FieldTest] = []
            for (key, keyNode, value) in pairs {
                do {
                    tests.append(try ValueCompiler.compile(key: key, keyLine: YAMLAccess.line(keyNode), value: value, slot: slot))
                } catch {
                    throw Failure(message: "search '\(name)': \(error.message)", line: error.line)
                }
            }
            return tests
        }
        switch value {
        case .mapping:
            return SearchIdentifier(name: name, body: .fields([try fields(value)]))
        case .sequence(let sequence):
            let items = Array(sequence)
            guard !items.isEmpty else { throw Failure(message: "search '\(name)' is an empty list", line: YAMLAccess.line(value)) }
            if items.allSatisfy({ if case .mapping = $0 { return true }; return false }) {
                var alternatives: [[SearchIdentifier.FieldTest]] = []
                for item in items { alternatives.append(try fields(item)) }
                return SearchIdentifier(name: name, body: .fields(alternatives))
            }
            if items.allSatisfy({ if case .scalar = $0 { return true }; return false }) {
                return SearchIdentifier(name: name, body: .keywords(items.map { keywordPattern(YAMLAccess.scalarText($0) ?? "") }))
            }
            throw Failure(message: "search '\(name)' mixes mappings and plain values; use a list of mappings (OR of field sets) or a list of keywords", line: YAMLAccess.line(value))
        case .scalar(let scalar):
            return SearchIdentifier(name: name, body: .keywords([keywordPattern(scalar.string)]))
        case .alias:
            throw Failure(message: "search '\(name)': YAML aliases are not supported in detections", line: YAMLAccess.line(keyNode))
        }
    }

    /// Keywords search anywhere in the line.
    static func keywordPattern(_ keyword: String) -> TextPattern {
        var pattern = keyword
        if !pattern.hasPrefix("*") { pattern = "*" + pattern }
        if !pattern.hasSuffix("*") || pattern.hasSuffix("\\*") { pattern += "*" }
        return TextPattern(sigma: pattern)
    }
}
