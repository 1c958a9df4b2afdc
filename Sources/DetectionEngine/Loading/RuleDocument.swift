import Foundation
import SecurityModel
import Yams

/// One YAML document of a rule file that looks like a rule: its metadata, its YAML and its kind.
/// The first stage of ``RuleLoader``: reading the files into documents.
struct RuleDocument {
    enum Kind { case detection, correlation, filter, baseline }

    var info: RuleInfo
    var root: Node
    var kind: Kind

    private static let levels: [String: Severity] = [
        "informational": .informational, "low": .low, "medium": .medium, "high": .high, "critical": .critical,
    ]

    /// The rule documents of `source`, each checked for what every document needs.
    static func read(_ source: RuleSource, _ diagnostics: inout RuleDiagnostics) -> [RuleDocument] {
        var drafts: [RuleDocument] = []
        let documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: source.text)
        } catch {
            diagnostics.error(yamlError(error), file: source.path)
            return []
        }
        var iterator = documents
        var documentNumber = 0
        while let root = iterator.next() {
            documentNumber += 1
            let line = YAMLAccess.line(root)
            guard case .mapping = root else {
                if case .scalar(let scalar) = root, scalar.string.isEmpty { continue }
                diagnostics.error(RuleLoadError(.document, "document \(documentNumber) is not a mapping; a Sigma rule starts with 'title:'", line: line), file: source.path)
                continue
            }
            let title = YAMLAccess.value(root, "title").flatMap(YAMLAccess.scalarText)
            let id = YAMLAccess.value(root, "id").flatMap(YAMLAccess.scalarText)
            let name = YAMLAccess.value(root, "name").flatMap(YAMLAccess.scalarText)
            let label = id ?? name ?? title ?? "document \(documentNumber)"
            func error(_ at: Int, _ message: String) {
                diagnostics.error(RuleLoadError(.document, message, line: at), file: source.path, rule: label)
            }
            if let action = YAMLAccess.value(root, "action").flatMap(YAMLAccess.scalarText) {
                error(line, "'action: \(action)' is the Sigma 1 collection syntax; write each rule as a complete document")
                continue
            }
            let kinds: [(String, RuleDocument.Kind)] = [("detection", .detection), ("correlation", .correlation), ("filter", .filter),
                                                        ("baseline", .baseline)]
            let present = kinds.filter { YAMLAccess.value(root, $0.0) != nil }
            guard present.count == 1 else {
                error(line, present.isEmpty
                    ? "the document has none of 'detection', 'correlation', 'filter' or 'baseline'"
                    : "the document has \(present.map(\.0).joined(separator: " and ")); a document is one rule, correlation, filter or baseline")
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
                diagnostics.warning(.document, "no 'level'; using medium", file: source.path, line: line, rule: label)
            }
            if let idNode = YAMLAccess.value(root, "id"), YAMLAccess.scalarText(idNode) == nil {
                error(YAMLAccess.line(idNode), "'id' must be a string"); continue
            }
            if let playbookNode = YAMLAccess.value(root, "playbook"), YAMLAccess.scalarText(playbookNode) == nil {
                error(YAMLAccess.line(playbookNode), "'playbook' must be the name of a playbook, such as brute-force"); continue
            }
            var info = RuleInfo(
                kind: present[0].1 == .correlation ? .correlation : present[0].1 == .baseline ? .baseline : .detection,
                title: title, id: id, name: name,
                status: YAMLAccess.value(root, "status").flatMap(YAMLAccess.scalarText),
                description: YAMLAccess.value(root, "description").flatMap(YAMLAccess.scalarText),
                level: level,
                tags: YAMLAccess.value(root, "tags").flatMap(YAMLAccess.strings) ?? [],
                falsePositives: YAMLAccess.value(root, "falsepositives").flatMap(YAMLAccess.strings) ?? [],
                file: source.path, line: line, fingerprint: fingerprint(root))
            info.playbook = YAMLAccess.value(root, "playbook").flatMap(YAMLAccess.scalarText)
            if present[0].1 == .baseline, !((source.path as NSString).lastPathComponent.hasPrefix("bl_")) {
                diagnostics.error(RuleLoadError(.baseline, "baseline rules are SecMon's, not Sigma's: put them in files named bl_*.yml, which Sigma tools reading the directory can skip",
                                                line: line), file: source.path, rule: label)
                continue
            }
            drafts.append(RuleDocument(info: info, root: root, kind: present[0].1))
        }
        if let failure = iterator.error {
            diagnostics.error(yamlError(failure), file: source.path)
        }
        return drafts
    }

    private static func yamlError(_ error: Error) -> RuleLoadError {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                let detail = context.map { "\($0.text) " } ?? ""
                return RuleLoadError(.yaml, "invalid YAML: \(detail)\(problem) (column \(mark.column))", line: mark.line)
            case .reader(let problem, _, _, _):
                return RuleLoadError(.yaml, "unreadable YAML: \(problem); rule files must be UTF-8 text", line: 0)
            default: break
            }
        }
        return RuleLoadError(.yaml, "invalid YAML: \(error)", line: 0)
    }

    /// The document's `logsource` (any stream when absent).
    var logSource: LogSource {
        get throws(RuleLoadError) {
            try Self.logSource(root)
        }
    }

    private static func logSource(_ root: Node) throws(RuleLoadError) -> LogSource {
        guard let node = YAMLAccess.value(root, "logsource") else { return LogSource() }
        guard let pairs = YAMLAccess.pairs(node) else {
            throw RuleLoadError(.logsource, "'logsource' must be a mapping (category, product, service)", line: YAMLAccess.line(node))
        }
        var values: [String: String] = [:]
        for (key, _, value) in pairs {
            guard let text = YAMLAccess.scalarText(value) else {
                throw RuleLoadError(.logsource, "logsource '\(key)' must be a string", line: YAMLAccess.line(value))
            }
            values[key] = text
        }
        return LogSource(category: values["category"], product: values["product"], service: values["service"])
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
}
