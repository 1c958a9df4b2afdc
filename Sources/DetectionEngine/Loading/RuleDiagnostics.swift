/// The diagnostics of one load, as every stage of ``RuleLoader`` finds them (in that order).
struct RuleDiagnostics {
    private(set) var items: [RuleDiagnostic] = []

    /// Records `error`, located in the document of the rule `info` describes.
    mutating func error(_ error: RuleLoadError, in info: RuleInfo) {
        items.append(.init(.error, file: info.file, line: error.line, rule: info.label, code: error.code, error.message))
    }

    /// Records `error` in `file` (for a rule named `rule`, if known).
    mutating func error(_ error: RuleLoadError, file: String, rule: String? = nil) {
        items.append(.init(.error, file: file, line: error.line, rule: rule, code: error.code, error.message))
    }

    /// Records a warning: the rule loads, but something should be said.
    mutating func warning(_ code: RuleLoadError.Code, _ message: String, file: String, line: Int, rule: String?) {
        items.append(.init(.warning, file: file, line: line, rule: rule, code: code, message))
    }
}
