import SecurityModel

/// What a rule says about itself, for alerts, listings and messages.
public struct RuleInfo: Sendable, Hashable {
    public enum Kind: String, Sendable { case detection, correlation, baseline }

    public var kind: Kind
    public var title: String
    public var id: String?
    public var name: String?
    public var status: String?
    public var description: String?
    public var level: Severity
    public var tags: [String]
    public var falsePositives: [String]
    /// The file that defines the rule, and the line its document starts on.
    public var file: String
    public var line: Int
    /// A hash of the rule's document content (not of where it stands): equal when the rule did not
    /// change, so a reload can keep the state of unchanged rules.
    public var fingerprint: UInt64 = 0
    /// The response playbook a new incident from this rule gets (SecMon's `playbook:` attribute;
    /// Sigma keeps attributes it does not define).
    public var playbook: String?

    /// How messages and tables name the rule: its name, else its id, else its title. Sigma ids
    /// are UUIDs, made for machines; a name (`D-01`) is what people read.
    public var label: String { name ?? id ?? title }
}
