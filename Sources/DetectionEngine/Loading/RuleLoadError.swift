/// Why part of a rule file could not be loaded: what kind of problem (a stable code), where (the
/// line), and what to do about it (the message). Every stage of ``RuleLoader`` throws or records
/// this one type; ``RuleDiagnostics`` turns it into a located ``RuleDiagnostic``.
public struct RuleLoadError: Error, Sendable, Hashable {
    /// The kinds of problem, by the stage that finds them.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A rule file or directory cannot be found or read.
        case file
        /// The file is not valid YAML or not UTF-8 text.
        case yaml
        /// A document is not a rule: no title, several kinds, a bad level, id or playbook.
        case document
        /// `logsource` is not a mapping of strings.
        case logsource
        /// The `detection` section: its searches and condition.
        case detection
        /// A `field|modifiers: values` entry.
        case value
        /// An id or name used twice.
        case duplicate
        /// A correlation's or filter's reference to a rule that is unknown or has errors.
        case reference
        /// A correlation that depends on itself.
        case cycle
        /// A correlation's attributes (type, timespan, condition, aliases, ...).
        case correlation
        /// A filter's attributes.
        case filter
        /// A baseline's attributes (type, timespan, repetitions, ...), or its file's name.
        case baseline
        /// A rule needs more than the engine can carry (fields grouped by its correlations).
        case capacity
        /// A rule test file (`secmon rules test`) is malformed.
        case test
    }

    public var code: Code
    public var message: String
    /// 1-based line in the file (0: the whole file).
    public var line: Int

    public init(_ code: Code, _ message: String, line: Int) {
        self.code = code
        self.message = message
        self.line = line
    }
}
