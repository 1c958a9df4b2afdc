import SecurityModel
import Yams

/// One rule file's text and the name to report it by.
public struct RuleSource: Sendable {
    public var path: String
    public var text: String
    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// The result of loading rules: the compiled set (every valid rule) and the diagnostics.
public struct RuleLoadResult: Sendable {
    public var ruleSet: RuleSet
    public var diagnostics: [RuleDiagnostic]
    public var errors: [RuleDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [RuleDiagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// Loads Sigma detection rules, correlation rules and filters from YAML texts (single or
/// multi-document), resolves references between them across files, and compiles them.
///
/// Pure: the caller reads the files. A rule with an error is left out of the set and reported
/// with its file, line and how to fix it; features SecMon does not support are errors, never skipped.
public enum RuleLoader {
    private struct Draft {
        var info: RuleInfo
        var root: Node
        var kind: Kind
        enum Kind { case detection, correlation, filter }
    }

    private static let levels: [String: Severity] = [
        "informational": .informational, "low": .low, "medium": .medium, "high": .high, "critical": .critical,
    ]

    public static func load(_ sources: [RuleSource]) -> RuleLoadResult {
        var diagnostics: [RuleDiagnostic] = []
        var drafts: [Draft] = []
        for source in sources {
            drafts += parseDocuments(source, &diagnostics)
        }
        var set = RuleSet()
        var fields = FieldTable()

        // Detection rules.
        for draft in drafts where draft.kind == .detection {
            let info = draft.info
            func fail(_ line: Int, _ message: String) {
                diagnostics.append(.init(.error, file: info.file, line: line, rule: info.label, message))
            }
            guard let detection = YAMLAccess.value(draft.root, "detection") else { continue }
            let logSource: LogSource
            do { logSource = try parseLogSource(draft.root) } catch { fail(error.line, error.message); continue }
            do {
                let output = try DetectionCompiler.compile(detection) { fields.slot(for: $0) }
                set.detections.append(DetectionRule(info: info, logSource: logSource, searches: output.searches, condition: output.condition))
            } catch {
                fail(error.line, error.message)
            }
        }

        // Names and ids must be unique across detections and correlations.
        var byReference: [String: Int] = [:]   // id or name -> node draft index in `allRules`
        var seen: [String: RuleInfo] = [:]
        func register(_ info: RuleInfo, node: Int) -> Bool {
            for key in [info.id, info.name].compactMap({ $0 }) {
                if let other = seen[key] {
                    diagnostics.append(.init(.error, file: info.file, line: info.line, rule: info.label,
                        "'\(key)' is already used by '\(other.title)' (\(other.file):\(other.line)); ids and names must be unique"))
                    return false
                }
            }
            for key in [info.id, info.name].compactMap({ $0 }) { seen[key] = info; byReference[key] = node }
            return true
        }
        var keptDetections: [DetectionRule] = []
        for rule in set.detections where register(rule.info, node: keptDetections.count) {
            keptDetections.append(rule)
        }
        set.detections = keptDetections

        // Correlations: parse, then order by dependency so that sources come first.
        struct CorrelationDraft {
            var info: RuleInfo
            var parsed: ParsedCorrelation
        }
        var correlationDrafts: [CorrelationDraft] = []
        for draft in drafts where draft.kind == .correlation {
            let info = draft.info
            do {
                let body = YAMLAccess.value(draft.root, "correlation")!
                correlationDrafts.append(CorrelationDraft(info: info, parsed: try parseCorrelation(body, root: draft.root)))
            } catch {
                diagnostics.append(.init(.error, file: info.file, line: error.line, rule: info.label, error.message))
            }
        }
        // Register correlation names so that chains can refer to them; node index assigned later.
        var correlationKeys: [String: Int] = [:]  // reference -> index in correlationDrafts
        var validCorrelation = Array(repeating: true, count: correlationDrafts.count)
        for (index, draft) in correlationDrafts.enumerated() {
            var clash = false
            for key in [draft.info.id, draft.info.name].compactMap({ $0 }) {
                if let other = seen[key] {
                    diagnostics.append(.init(.error, file: draft.info.file, line: draft.info.line, rule: draft.info.label,
                        "'\(key)' is already used by '\(other.title)' (\(other.file):\(other.line)); ids and names must be unique"))
                    clash = true
                }
            }
            if clash { validCorrelation[index] = false; continue }
            for key in [draft.info.id, draft.info.name].compactMap({ $0 }) { seen[key] = draft.info; correlationKeys[key] = index }
        }
        // Unknown references, and cycles (depth-first, reporting the chain).
        enum Mark { case unvisited, visiting, done }
        var marks = Array(repeating: Mark.unvisited, count: correlationDrafts.count)
        var order: [Int] = []
        func visit(_ index: Int, _ path: [String]) -> Bool {
            switch marks[index] {
            case .done: return validCorrelation[index]
            case .visiting:
                let draft = correlationDrafts[index]
                diagnostics.append(.init(.error, file: draft.info.file, line: draft.parsed.referenceLine, rule: draft.info.label,
                    "circular correlation chain: \((path + [draft.info.label]).joined(separator: " -> ")); a correlation cannot depend on itself"))
                validCorrelation[index] = false
                return false
            case .unvisited: break
            }
            marks[index] = .visiting
            let draft = correlationDrafts[index]
            var ok = validCorrelation[index]
            for reference in draft.parsed.references {
                if byReference[reference] != nil { continue }
                if let child = correlationKeys[reference] {
                    if !visit(child, path + [draft.info.label]) {
                        if ok, marks[child] == .done || marks[child] == .visiting {
                            diagnostics.append(.init(.error, file: draft.info.file, line: draft.parsed.referenceLine, rule: draft.info.label,
                                "references correlation '\(reference)', which has errors or is part of a cycle"))
                        }
                        ok = false
                    }
                    continue
                }
                // Defined but not loaded: the rule itself has errors.
                let failedDetection = drafts.contains { $0.kind == .detection && ($0.info.id == reference || $0.info.name == reference) }
                diagnostics.append(.init(.error, file: draft.info.file, line: draft.parsed.referenceLine, rule: draft.info.label,
                    failedDetection
                        ? "references rule '\(reference)', which has errors (see above)"
                        : "references unknown rule '\(reference)'; rules are referenced by their 'id' or 'name', and the rule must be in the loaded files"))
                ok = false
            }
            marks[index] = .done
            validCorrelation[index] = ok
            if ok { order.append(index) }
            return ok
        }
        for index in correlationDrafts.indices where marks[index] == .unvisited { _ = visit(index, []) }

        // Node numbering: detections, then correlations in dependency order.
        let detectionCount = set.detections.count
        var correlationNode: [Int: Int] = [:]
        for (position, index) in order.enumerated() { correlationNode[index] = detectionCount + position }
        func node(for reference: String) -> Int? {
            if let detection = byReference[reference] { return detection }
            if let index = correlationKeys[reference] { return correlationNode[index] }
            return nil
        }
        for index in order {
            let draft = correlationDrafts[index]
            set.correlations.append(CorrelationRule(
                info: draft.info, type: draft.parsed.type, timespan: draft.parsed.timespan, condition: draft.parsed.condition,
                groupBy: draft.parsed.groupBy, valueField: draft.parsed.field, generate: draft.parsed.generate,
                sources: draft.parsed.references.compactMap(node(for:)), references: draft.parsed.references))
        }

        // Filters.
        for draft in drafts where draft.kind == .filter {
            let info = draft.info
            func fail(_ line: Int, _ message: String) {
                diagnostics.append(.init(.error, file: info.file, line: line, rule: info.label, message))
            }
            let body = YAMLAccess.value(draft.root, "filter")!
            guard let rulesNode = YAMLAccess.value(body, "rules"), let references = YAMLAccess.strings(rulesNode), !references.isEmpty else {
                fail(YAMLAccess.line(body), "a filter needs 'rules:' listing the ids or names of the rules it applies to")
                continue
            }
            do {
                let logSource = try parseLogSource(draft.root)
                let output = try DetectionCompiler.compile(body, ignoredKeys: ["rules"]) { fields.slot(for: $0) }
                let filter = CompiledFilter(title: info.title, logSource: logSource, searches: output.searches, condition: output.condition,
                                            fingerprint: info.fingerprint)
                for reference in references {
                    guard let index = byReference[reference] else {
                        if correlationKeys[reference] != nil {
                            fail(YAMLAccess.line(rulesNode), "filters apply to detection rules; '\(reference)' is a correlation (filter the rules it references instead)")
                        } else {
                            fail(YAMLAccess.line(rulesNode), "filter references unknown rule '\(reference)'")
                        }
                        continue
                    }
                    set.detections[index].filters.append(filter)
                }
            } catch let error as DetectionCompiler.Failure {
                fail(error.line, error.message)
            } catch let error as LoadFailure {
                fail(error.line, error.message)
            } catch {
                fail(info.line, "\(error)")
            }
        }

        // Graph: parents, alerting nodes, carried fields.
        let nodeCount = set.detections.count + set.correlations.count
        set.parents = Array(repeating: [], count: nodeCount)
        for (index, correlation) in set.correlations.enumerated() {
            for source in Set(correlation.sources) { set.parents[source].append(index) }
        }
        set.emitsAlerts = (0..<nodeCount).map { node in
            set.parents[node].isEmpty || set.parents[node].contains { set.correlations[$0].generate }
        }
        func names(of node: Int) -> [String] {
            let info = set.info(ofNode: node)
            return [info.name, info.id].compactMap { $0 }
        }
        func resolve(_ field: String, in correlation: CorrelationRule, aliases: [String: [String: String]], for node: Int) -> String {
            guard let mapping = aliases[field] else { return field }
            for name in names(of: node) { if let actual = mapping[name] { return actual } }
            return field
        }
        let aliasTables: [[String: [String: String]]] = order.map { correlationDrafts[$0].parsed.aliases }
        set.carried = Array(repeating: [], count: nodeCount)
        for (index, correlation) in set.correlations.enumerated() {
            let node = set.detections.count + index
            set.carried[node] = correlation.groupBy
            for source in correlation.sources where source < set.detections.count {
                var wanted = correlation.groupBy.map { resolve($0, in: correlation, aliases: aliasTables[index], for: source) }
                if let field = correlation.valueField {
                    wanted.append(resolve(field, in: correlation, aliases: aliasTables[index], for: source))
                }
                for name in wanted where !set.carried[source].contains(name) { set.carried[source].append(name) }
            }
        }
        for node in 0..<nodeCount where set.carried[node].count > CarriedSymbols.capacity {
            // A match carries its values inline (see CarriedSymbols): the fields that the
            // correlations over one rule group or aggregate by must fit.
            let info = set.info(ofNode: node)
            diagnostics.append(.init(.error, file: info.file, line: info.line, rule: info.label,
                                     "the correlations over this rule group or aggregate by \(set.carried[node].count) fields (\(set.carried[node].joined(separator: ", "))); at most \(CarriedSymbols.capacity) are supported: give some of those correlations their own copy of the rule"))
            set.carried[node] = Array(set.carried[node].prefix(CarriedSymbols.capacity))
        }
        for index in set.correlations.indices {
            let correlation = set.correlations[index]
            set.correlations[index].groupIndices = correlation.sources.map { source in
                correlation.groupBy.map { set.carried[source].firstIndex(of: resolve($0, in: correlation, aliases: aliasTables[index], for: source)) }
            }
            set.correlations[index].valueIndices = correlation.sources.map { source in
                correlation.valueField.flatMap { set.carried[source].firstIndex(of: resolve($0, in: correlation, aliases: aliasTables[index], for: source)) }
            }
        }
        set.carriedSlots = (0..<set.detections.count).map { node in set.carried[node].map { fields.slot(for: $0) } }
        set.fields = fields
        set.computeStateFingerprints()
        return RuleLoadResult(ruleSet: set, diagnostics: diagnostics)
    }

    /// FNV-1a of the document as Yams serialises it: the same for the same content wherever it
    /// stands (comments and layout aside).
    static func fingerprint(_ root: Node) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ((try? Yams.serialize(node: root)) ?? "").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    struct LoadFailure: Error { let message: String; let line: Int }

    private static func parseDocuments(_ source: RuleSource, _ diagnostics: inout [RuleDiagnostic]) -> [Draft] {
        var drafts: [Draft] = []
        let documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: source.text)
        } catch {
            diagnostics.append(yamlDiagnostic(error, file: source.path))
            return []
        }
        var iterator = documents
        var documentNumber = 0
        while let root = iterator.next() {
            documentNumber += 1
            let line = YAMLAccess.line(root)
            guard case .mapping = root else {
                if case .scalar(let scalar) = root, scalar.string.isEmpty { continue }
                diagnostics.append(.init(.error, file: source.path, line: line, "document \(documentNumber) is not a mapping; a Sigma rule starts with 'title:'"))
                continue
            }
            let title = YAMLAccess.value(root, "title").flatMap(YAMLAccess.scalarText)
            let id = YAMLAccess.value(root, "id").flatMap(YAMLAccess.scalarText)
            let name = YAMLAccess.value(root, "name").flatMap(YAMLAccess.scalarText)
            let label = id ?? name ?? title ?? "document \(documentNumber)"
            func error(_ at: Int, _ message: String) {
                diagnostics.append(.init(.error, file: source.path, line: at, rule: label, message))
            }
            if let action = YAMLAccess.value(root, "action").flatMap(YAMLAccess.scalarText) {
                error(line, "'action: \(action)' is the Sigma 1 collection syntax; write each rule as a complete document")
                continue
            }
            let kinds: [(String, Draft.Kind)] = [("detection", .detection), ("correlation", .correlation), ("filter", .filter)]
            let present = kinds.filter { YAMLAccess.value(root, $0.0) != nil }
            guard present.count == 1 else {
                error(line, present.isEmpty
                    ? "the document has none of 'detection', 'correlation' or 'filter'"
                    : "the document has \(present.map(\.0).joined(separator: " and ")); a document is one rule, correlation or filter")
                continue
            }
            guard let title, !title.isEmpty else { error(line, "'title' is required"); continue }
            var level = Severity.medium
            if let levelNode = YAMLAccess.value(root, "level") {
                guard let text = YAMLAccess.scalarText(levelNode), let parsed = levels[text.lowercased()] else {
                    error(YAMLAccess.line(levelNode), "'level' must be one of informational, low, medium, high, critical")
                    continue
                }
                level = parsed
            } else if present[0].1 == .detection {
                diagnostics.append(.init(.warning, file: source.path, line: line, rule: label, "no 'level'; using medium"))
            }
            if let idNode = YAMLAccess.value(root, "id"), YAMLAccess.scalarText(idNode) == nil {
                error(YAMLAccess.line(idNode), "'id' must be a string"); continue
            }
            if let playbookNode = YAMLAccess.value(root, "playbook"), YAMLAccess.scalarText(playbookNode) == nil {
                error(YAMLAccess.line(playbookNode), "'playbook' must be the name of a playbook, such as brute-force"); continue
            }
            var info = RuleInfo(
                kind: present[0].1 == .correlation ? .correlation : .detection,
                title: title, id: id, name: name,
                status: YAMLAccess.value(root, "status").flatMap(YAMLAccess.scalarText),
                description: YAMLAccess.value(root, "description").flatMap(YAMLAccess.scalarText),
                level: level,
                tags: YAMLAccess.value(root, "tags").flatMap(YAMLAccess.strings) ?? [],
                falsePositives: YAMLAccess.value(root, "falsepositives").flatMap(YAMLAccess.strings) ?? [],
                file: source.path, line: line, fingerprint: fingerprint(root))
            info.playbook = YAMLAccess.value(root, "playbook").flatMap(YAMLAccess.scalarText)
            drafts.append(Draft(info: info, root: root, kind: present[0].1))
        }
        if let failure = iterator.error {
            diagnostics.append(yamlDiagnostic(failure, file: source.path))
        }
        return drafts
    }

    private static func yamlDiagnostic(_ error: Error, file: String) -> RuleDiagnostic {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                let detail = context.map { "\($0.text) " } ?? ""
                return .init(.error, file: file, line: mark.line, "invalid YAML: \(detail)\(problem) (column \(mark.column))")
            case .reader(let problem, _, _, _):
                return .init(.error, file: file, line: 0, "unreadable YAML: \(problem); rule files must be UTF-8 text")
            default: break
            }
        }
        return .init(.error, file: file, line: 0, "invalid YAML: \(error)")
    }

    private static func parseLogSource(_ root: Node) throws(LoadFailure) -> LogSource {
        guard let node = YAMLAccess.value(root, "logsource") else { return LogSource() }
        guard let pairs = YAMLAccess.pairs(node) else {
            throw LoadFailure(message: "'logsource' must be a mapping (category, product, service)", line: YAMLAccess.line(node))
        }
        var values: [String: String] = [:]
        for (key, _, value) in pairs {
            guard let text = YAMLAccess.scalarText(value) else {
                throw LoadFailure(message: "logsource '\(key)' must be a string", line: YAMLAccess.line(value))
            }
            values[key] = text
        }
        return LogSource(category: values["category"], product: values["product"], service: values["service"])
    }

    private struct ParsedCorrelation {
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

    private static func parseCorrelation(_ body: Node, root: Node) throws(LoadFailure) -> ParsedCorrelation {
        guard case .mapping = body else {
            throw LoadFailure(message: "'correlation' must be a mapping with type, rules, group-by, timespan and condition", line: YAMLAccess.line(body))
        }
        let known: Set = ["type", "rules", "group-by", "timespan", "condition", "aliases", "generate"]
        for (key, keyNode, _) in YAMLAccess.pairs(body) ?? [] where !known.contains(key) {
            throw LoadFailure(message: "unknown correlation attribute '\(key)'; expected: \(known.sorted().joined(separator: ", "))", line: YAMLAccess.line(keyNode))
        }
        guard let typeNode = YAMLAccess.value(body, "type"), let typeText = YAMLAccess.scalarText(typeNode) else {
            throw LoadFailure(message: "the correlation needs a 'type': \(CorrelationType.allCases.map(\.rawValue).joined(separator: ", "))", line: YAMLAccess.line(body))
        }
        guard let type = CorrelationType(rawValue: typeText) else {
            throw LoadFailure(message: "unknown correlation type '\(typeText)'; expected one of \(CorrelationType.allCases.map(\.rawValue).joined(separator: ", "))", line: YAMLAccess.line(typeNode))
        }
        guard let rulesNode = YAMLAccess.value(body, "rules"), let references = YAMLAccess.strings(rulesNode), !references.isEmpty else {
            throw LoadFailure(message: "the correlation needs 'rules': the ids or names of the rules it correlates", line: YAMLAccess.line(body))
        }
        if (type == .temporal || type == .temporalOrdered), references.count < 2 {
            throw LoadFailure(message: "\(type.rawValue) needs at least two rules", line: YAMLAccess.line(rulesNode))
        }
        if references.count > 64 {
            throw LoadFailure(message: "a correlation lists at most 64 rules (this one lists \(references.count)); split it into chained correlations", line: YAMLAccess.line(rulesNode))
        }
        var groupBy: [String] = []
        if let node = YAMLAccess.value(body, "group-by") {
            guard let list = YAMLAccess.strings(node) else {
                throw LoadFailure(message: "'group-by' must be a list of field names", line: YAMLAccess.line(node))
            }
            groupBy = list
        }
        guard let spanNode = YAMLAccess.value(body, "timespan") else {
            throw LoadFailure(message: "the correlation needs a 'timespan' such as 30s, 5m, 1h or 1d", line: YAMLAccess.line(body))
        }
        guard let spanText = YAMLAccess.scalarText(spanNode), let timespan = Timespan(spanText) else {
            throw LoadFailure(message: "timespan '\(YAMLAccess.scalarText(spanNode) ?? "")' is not a number followed by s, m, h or d (like 5m)", line: YAMLAccess.line(spanNode))
        }
        var condition: CorrelationCondition?
        var field: String?
        if let node = YAMLAccess.value(body, "condition") {
            guard let pairs = YAMLAccess.pairs(node) else {
                throw LoadFailure(message: "'condition' must be a mapping such as {gt: 3} or {gte: 10, lte: 20}", line: YAMLAccess.line(node))
            }
            var comparisons: [CorrelationCondition.Comparison] = []
            for (key, keyNode, value) in pairs {
                if key == "field" {
                    guard let text = YAMLAccess.scalarText(value) else { throw LoadFailure(message: "'field' must be a field name", line: YAMLAccess.line(value)) }
                    field = text
                    continue
                }
                guard let op = ComparisonOperator(rawValue: key) else {
                    throw LoadFailure(message: "unknown condition '\(key)'; use gt, gte, lt, lte, eq or neq (two of them form a range)", line: YAMLAccess.line(keyNode))
                }
                guard let bound = YAMLAccess.number(value) else {
                    throw LoadFailure(message: "condition '\(key)' needs a number", line: YAMLAccess.line(value))
                }
                comparisons.append(.init(op: op, bound: bound))
            }
            if comparisons.isEmpty { throw LoadFailure(message: "the condition has no comparison (gt, gte, lt, lte, eq, neq)", line: YAMLAccess.line(node)) }
            if comparisons.count > 2 { throw LoadFailure(message: "a condition has one comparison, or two forming a range", line: YAMLAccess.line(node)) }
            condition = CorrelationCondition(comparisons: comparisons)
        }
        if type.needsField, field == nil {
            throw LoadFailure(message: "\(type.rawValue) needs 'field' in its condition (the field whose values are counted or summed)", line: YAMLAccess.line(body))
        }
        if !type.needsField, field != nil {
            throw LoadFailure(message: "\(type.rawValue) does not use 'field'; remove it or use value_count", line: YAMLAccess.line(body))
        }
        if condition == nil, type != .temporal, type != .temporalOrdered {
            throw LoadFailure(message: "\(type.rawValue) needs a 'condition' such as {gt: 3}", line: YAMLAccess.line(body))
        }
        if type == .temporalOrdered, condition != nil {
            throw LoadFailure(message: "temporal_ordered matches when all rules match in order; a condition is not supported (use temporal for 'N of these rules')", line: YAMLAccess.line(body))
        }
        var aliases: [String: [String: String]] = [:]
        if let node = YAMLAccess.value(body, "aliases") {
            guard let pairs = YAMLAccess.pairs(node) else {
                throw LoadFailure(message: "'aliases' must map alias -> {rule name: field}", line: YAMLAccess.line(node))
            }
            for (alias, _, mapping) in pairs {
                guard let entries = YAMLAccess.pairs(mapping) else {
                    throw LoadFailure(message: "alias '\(alias)' must map rule names to field names", line: YAMLAccess.line(mapping))
                }
                var table: [String: String] = [:]
                for (rule, _, fieldNode) in entries {
                    guard let text = YAMLAccess.scalarText(fieldNode) else {
                        throw LoadFailure(message: "alias '\(alias)': the field for '\(rule)' must be a name", line: YAMLAccess.line(fieldNode))
                    }
                    table[rule] = text
                }
                aliases[alias] = table
            }
        }
        var generate = false
        for node in [YAMLAccess.value(root, "generate"), YAMLAccess.value(body, "generate")].compactMap({ $0 }) {
            guard let value = YAMLAccess.bool(node) else { throw LoadFailure(message: "'generate' must be true or false", line: YAMLAccess.line(node)) }
            generate = generate || value
        }
        return ParsedCorrelation(type: type, references: references, referenceLine: YAMLAccess.line(rulesNode),
                                 groupBy: groupBy, timespan: timespan, condition: condition, field: field,
                                 aliases: aliases, generate: generate)
    }
}
