/// A problem found while loading rules: where (file and line), which rule, what, and how to fix it.
/// Printed as `file:line: error: [rule] message`, the form editors and CI annotate.
public struct RuleDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    /// The file as it was named to the loader.
    public var file: String
    /// 1-based line in that file (0 when the problem concerns the whole file).
    public var line: Int
    /// The rule's title, name or id, when the problem belongs to one rule.
    public var rule: String?
    public var message: String
    /// What kind of problem it is (stable across releases, for tooling and tests).
    public var code: RuleLoadError.Code

    public init(_ severity: Severity, file: String, line: Int, rule: String? = nil, code: RuleLoadError.Code, _ message: String) {
        self.severity = severity
        self.code = code
        self.file = file
        self.line = line
        self.rule = rule
        self.message = message
    }

    public var description: String {
        "\(file):\(line): \(severity.rawValue): \(rule.map { "[\($0)] " } ?? "")\(message)"
    }
}
