import SecurityModel
import Yams

/// Binds Sigma filter documents to the detection rules they name: each filter's condition is
/// compiled once and ANDed into every rule it lists (pySigma's semantics).
enum FilterBinder {
    /// Compiles the filter `document` and appends it to the rules it names in `detections`.
    static func bind(_ document: RuleDocument, to detections: inout [DetectionRule], registry: RuleRegistry,
                     fields: inout FieldTable, diagnostics: inout RuleDiagnostics,
                     placeholders: PlaceholderUse = PlaceholderUse()) {
        let info = document.info
        let body = YAMLAccess.value(document.root, "filter")!
        guard let rulesNode = YAMLAccess.value(body, "rules"), let references = YAMLAccess.strings(rulesNode), !references.isEmpty else {
            diagnostics.error(RuleLoadError(.filter, "a filter needs 'rules:' listing the ids or names of the rules it applies to", line: YAMLAccess.line(body)), in: info)
            return
        }
        let filter: CompiledFilter
        do throws(RuleLoadError) {
            let logSource = try document.logSource
            _ = placeholders.take()
            let output = try DetectionCompiler.compile(body, ignoredKeys: ["rules"], slot: { fields.slot(for: $0) }, placeholders: placeholders)
            let used = placeholders.take()
            let fingerprint = used.isEmpty ? info.fingerprint : info.fingerprint ^ placeholders.table.digest(of: used) &* 0x9E37_79B9_7F4A_7C15
            filter = CompiledFilter(title: info.title, logSource: logSource, searches: output.searches, condition: output.condition,
                                    fingerprint: fingerprint)
            for name in used { placeholders.recordUser(name, info.label) }
        } catch {
            diagnostics.error(error, in: info)
            return
        }
        for reference in references {
            guard let index = registry.detection(reference) else {
                let message = registry.correlation(reference) != nil
                    ? "filters apply to detection rules; '\(reference)' is a correlation (filter the rules it references instead)"
                    : "filter references unknown rule '\(reference)'"
                diagnostics.error(RuleLoadError(.reference, message, line: YAMLAccess.line(rulesNode)), in: info)
                continue
            }
            detections[index].filters.append(filter)
        }
    }
}
