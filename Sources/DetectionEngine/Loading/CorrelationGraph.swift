/// The correlations of a load and what they reference: resolves each reference to a detection or
/// another correlation, finds unknown references and cycles (depth first, naming the chain), and
/// orders the valid correlations so that every correlation comes after the ones it uses.
struct CorrelationGraph {
    /// A parsed correlation document.
    struct Draft {
        var info: RuleInfo
        var parsed: CorrelationParser.ParsedCorrelation
    }

    let drafts: [Draft]
    /// Indices into `drafts` of the valid correlations, sources before the correlations using them.
    private(set) var order: [Int] = []
    private var valid: [Bool]

    private enum Mark { case unvisited, visiting, done }
    private var marks: [Mark]

    /// Resolves `drafts`. `registered` says which drafts took their ids and names (the others
    /// clashed and are invalid); `failedDetection` whether a reference names a detection document
    /// that did not load.
    init(_ drafts: [Draft], registered: [Bool], registry: RuleRegistry, failedDetection: (String) -> Bool,
         diagnostics: inout RuleDiagnostics) {
        self.drafts = drafts
        self.valid = registered
        self.marks = Array(repeating: .unvisited, count: drafts.count)
        for index in drafts.indices where marks[index] == .unvisited {
            _ = visit(index, [], registry, failedDetection, &diagnostics)
        }
    }

    /// Correlation rules in ``order``, with their sources as node indices (detections are nodes
    /// `0..<detectionCount`, correlations follow in order).
    func rules(detectionCount: Int, registry: RuleRegistry) -> [CorrelationRule] {
        var node: [Int: Int] = [:]
        for (position, index) in order.enumerated() { node[index] = detectionCount + position }
        return order.map { index in
            let draft = drafts[index]
            let sources = draft.parsed.references.compactMap { reference -> Int? in
                if let detection = registry.detection(reference) { return detection }
                return registry.correlation(reference).flatMap { node[$0] }
            }
            return CorrelationRule(
                info: draft.info, type: draft.parsed.type, timespan: draft.parsed.timespan, condition: draft.parsed.condition,
                groupBy: draft.parsed.groupBy, valueField: draft.parsed.field, generate: draft.parsed.generate,
                sources: sources, references: draft.parsed.references)
        }
    }

    /// The aliases of the correlations in ``order``.
    var aliasTables: [[String: [String: String]]] { order.map { drafts[$0].parsed.aliases } }

    private mutating func visit(_ index: Int, _ path: [String], _ registry: RuleRegistry,
                                _ failedDetection: (String) -> Bool, _ diagnostics: inout RuleDiagnostics) -> Bool {
        let draft = drafts[index]
        switch marks[index] {
        case .done: return valid[index]
        case .visiting:
            diagnostics.error(RuleLoadError(.cycle, "circular correlation chain: \((path + [draft.info.label]).joined(separator: " -> ")); a correlation cannot depend on itself",
                                            line: draft.parsed.referenceLine), in: draft.info)
            valid[index] = false
            return false
        case .unvisited: break
        }
        marks[index] = .visiting
        var ok = valid[index]
        for reference in draft.parsed.references {
            switch registry[reference] {
            case .detection?: continue
            case .correlation(let child)?:
                if !visit(child, path + [draft.info.label], registry, failedDetection, &diagnostics) {
                    if ok, marks[child] == .done || marks[child] == .visiting {
                        diagnostics.error(RuleLoadError(.reference, "references correlation '\(reference)', which has errors or is part of a cycle",
                                                        line: draft.parsed.referenceLine), in: draft.info)
                    }
                    ok = false
                }
            case .baseline?:
                diagnostics.error(RuleLoadError(.reference, "references baseline '\(reference)'; correlations use detection rules and other correlations",
                                                line: draft.parsed.referenceLine), in: draft.info)
                ok = false
            case nil:
                // Defined but not loaded: the rule itself has errors.
                diagnostics.error(RuleLoadError(.reference, failedDetection(reference)
                    ? "references rule '\(reference)', which has errors (see above)"
                    : "references unknown rule '\(reference)'; rules are referenced by their 'id' or 'name', and the rule must be in the loaded files",
                    line: draft.parsed.referenceLine), in: draft.info)
                ok = false
            }
        }
        marks[index] = .done
        valid[index] = ok
        if ok { order.append(index) }
        return ok
    }
}
