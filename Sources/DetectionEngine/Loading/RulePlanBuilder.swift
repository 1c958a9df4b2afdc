import SecurityModel

/// The last stage of ``RuleLoader``: the rule graph the engine runs. Each node's parents (the
/// correlations its hits flow to) and watchers (the baselines), whether it raises alerts of its
/// own, the fields its hits carry (group-by and value fields, through aliases), and where each
/// correlation or baseline finds them among a source's carried values.
enum RulePlanBuilder {
    /// Completes `set` (detections and correlations in place) with its graph.
    /// - Parameter aliasTables: per correlation, alias -> rule name -> field.
    static func build(_ set: inout RuleSet, aliasTables: [[String: [String: String]]], fields: inout FieldTable,
                      diagnostics: inout RuleDiagnostics) {
        let nodeCount = set.count
        set.parents = Array(repeating: [], count: nodeCount)
        for (index, correlation) in set.correlations.enumerated() {
            for source in Set(correlation.sources) { set.parents[source].append(index) }
        }
        set.watchers = Array(repeating: [], count: set.detections.count)
        for (index, baseline) in set.baselines.enumerated() {
            for source in Set(baseline.sources) where source < set.detections.count { set.watchers[source].append(index) }
        }
        set.emitsAlerts = (0..<nodeCount).map { node in
            let watchers = node < set.detections.count ? set.watchers[node] : []
            if set.parents[node].isEmpty && watchers.isEmpty { return true }
            return set.parents[node].contains { set.correlations[$0].generate } || watchers.contains { set.baselines[$0].generate }
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
        for (index, baseline) in set.baselines.enumerated() {
            set.carried[set.detections.count + set.correlations.count + index] = baseline.groupBy
            for source in baseline.sources where source < set.detections.count {
                for name in baseline.groupBy + [baseline.kind.valueField].compactMap({ $0 }) where !set.carried[source].contains(name) {
                    set.carried[source].append(name)
                }
            }
        }
        for node in 0..<nodeCount where set.carried[node].count > CarriedSymbols.capacity {
            // A match carries its values inline (see CarriedSymbols): the fields that the
            // correlations over one rule group or aggregate by must fit.
            let info = set.info(ofNode: node)
            diagnostics.error(RuleLoadError(.capacity, "the correlations and baselines over this rule group or aggregate by \(set.carried[node].count) fields (\(set.carried[node].joined(separator: ", "))); at most \(CarriedSymbols.capacity) are supported: give some of those correlations their own copy of the rule",
                                            line: info.line), in: info)
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
        for index in set.baselines.indices {
            let baseline = set.baselines[index]
            set.baselines[index].groupIndices = baseline.sources.map { source in baseline.groupBy.map { set.carried[source].firstIndex(of: $0) } }
            set.baselines[index].valueIndices = baseline.sources.map { source in baseline.kind.valueField.flatMap { set.carried[source].firstIndex(of: $0) } }
        }
        set.carriedSlots = (0..<set.detections.count).map { node in set.carried[node].map { fields.slot(for: $0) } }
        set.fields = fields
        set.computeStateFingerprints()
    }
}
