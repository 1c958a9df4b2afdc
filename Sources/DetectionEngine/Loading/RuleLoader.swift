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
///
/// Loading runs in stages, each in its own type, sharing one ``RuleDiagnostics`` collector and
/// one error type (``RuleLoadError``, with codes):
/// 1. read the documents (``RuleDocument``);
/// 2. compile the detections (``DetectionCompiler``) and register ids and names (``RuleRegistry``);
/// 3. parse the correlations (``CorrelationParser``), register them, and resolve the correlation
///    graph and its cycles (``CorrelationGraph``);
/// 4. parse the baselines (``BaselineParser``) and bind them to the detections they watch;
/// 5. bind the filters to the rules they name (``FilterBinder``);
/// 6. build the plan: parents, watchers, alerting nodes, carried fields (``RulePlanBuilder``).
public enum RuleLoader {
    /// - Parameter placeholders: the lists that `expand` placeholders stand for; a placeholder
    ///   without a list matches nothing (``RuleSet/placeholders`` names the rules that use each).
    public static func load(_ sources: [RuleSource], placeholders: PlaceholderTable = PlaceholderTable()) -> RuleLoadResult {
        var diagnostics = RuleDiagnostics()
        let use = PlaceholderUse(placeholders)
        var fields = FieldTable()
        var registry = RuleRegistry()
        var set = RuleSet()

        // 1. Documents.
        let documents = sources.flatMap { RuleDocument.read($0, &diagnostics) }

        // 2. Detections, then their ids and names.
        var compiled: [DetectionRule] = []
        for document in documents where document.kind == .detection {
            guard let detection = YAMLAccess.value(document.root, "detection") else { continue }
            do throws(RuleLoadError) {
                let logSource = try document.logSource
                _ = use.take()
                let output = try DetectionCompiler.compile(detection, slot: { fields.slot(for: $0) }, placeholders: use)
                var info = document.info
                let used = use.take()
                if !used.isEmpty {
                    // What the rule matches depends on its lists too: a changed list is a changed rule.
                    info.fingerprint = info.fingerprint ^ placeholders.digest(of: used) &* 0x9E37_79B9_7F4A_7C15
                    for name in used { use.recordUser(name, info.label) }
                }
                compiled.append(DetectionRule(info: info, logSource: logSource, searches: output.searches, condition: output.condition))
            } catch {
                diagnostics.error(error, in: document.info)
            }
        }
        for rule in compiled {
            do throws(RuleLoadError) {
                try registry.register(rule.info, as: .detection(set.detections.count))
                set.detections.append(rule)
            } catch {
                diagnostics.error(error, in: rule.info)
            }
        }

        // 3. Correlations: parsed, registered, resolved and ordered.
        var drafts: [CorrelationGraph.Draft] = []
        for document in documents where document.kind == .correlation {
            do throws(RuleLoadError) {
                let body = YAMLAccess.value(document.root, "correlation")!
                drafts.append(.init(info: document.info, parsed: try CorrelationParser.parse(body, root: document.root)))
            } catch {
                diagnostics.error(error, in: document.info)
            }
        }
        var registered = Array(repeating: true, count: drafts.count)
        for (index, draft) in drafts.enumerated() {
            do throws(RuleLoadError) {
                try registry.register(draft.info, as: .correlation(index))
            } catch {
                diagnostics.error(error, in: draft.info)
                registered[index] = false
            }
        }
        let detectionDocuments = documents.filter { $0.kind == .detection }
        let graph = CorrelationGraph(drafts, registered: registered, registry: registry, failedDetection: { reference in
            detectionDocuments.contains { $0.info.id == reference || $0.info.name == reference }
        }, diagnostics: &diagnostics)
        set.correlations = graph.rules(detectionCount: set.detections.count, registry: registry)

        // 4. Baselines: parsed, registered, and bound to the detections they watch.
        for document in documents where document.kind == .baseline {
            do throws(RuleLoadError) {
                let parsed = try BaselineParser.parse(YAMLAccess.value(document.root, "baseline")!, root: document.root)
                var sources: [Int] = []
                for reference in parsed.references {
                    switch registry[reference] {
                    case .detection(let node)?: sources.append(node)
                    case .correlation?, .baseline?:
                        throw RuleLoadError(.reference, "baselines watch detection rules; '\(reference)' is not one (watch the rules it is built on instead)", line: parsed.referenceLine)
                    case nil:
                        let failed = detectionDocuments.contains { $0.info.id == reference || $0.info.name == reference }
                        throw RuleLoadError(.reference, failed
                            ? "watches rule '\(reference)', which has errors (see above)"
                            : "watches unknown rule '\(reference)'; rules are referenced by their 'id' or 'name', and the rule must be in the loaded files",
                            line: parsed.referenceLine)
                    }
                }
                try registry.register(document.info, as: .baseline)
                set.baselines.append(BaselineRule(info: document.info, kind: parsed.kind, timespan: parsed.timespan, groupBy: parsed.groupBy,
                                                  generate: parsed.generate, sources: sources, references: parsed.references))
            } catch {
                diagnostics.error(error, in: document.info)
            }
        }

        // 5. Filters.
        for document in documents where document.kind == .filter {
            FilterBinder.bind(document, to: &set.detections, registry: registry, fields: &fields, diagnostics: &diagnostics, placeholders: use)
        }

        // 6. The plan.
        RulePlanBuilder.build(&set, aliasTables: graph.aliasTables, fields: &fields, diagnostics: &diagnostics)
        set.placeholders = use.users
        return RuleLoadResult(ruleSet: set, diagnostics: diagnostics.items)
    }
}
