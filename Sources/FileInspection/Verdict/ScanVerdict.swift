/// The scanner's conclusion about a file.
public enum ScanVerdict: String, Sendable, Codable, Comparable, CaseIterable {
    case clean, suspicious, malicious

    private var rank: Int {
        switch self {
        case .clean: 0
        case .suspicious: 1
        case .malicious: 2
        }
    }

    public static func < (lhs: ScanVerdict, rhs: ScanVerdict) -> Bool { lhs.rank < rhs.rank }
}

/// One reason behind a verdict: what was seen, and how much it weighs.
public struct ScanReason: Sendable, Equatable, Codable {
    /// A stable name for scripts and rules: `hash-indicator`, `yara`, `suspicious-strings`,
    /// `packed`, `zip-bomb`, `archive-traversal`, `address-indicator`, `domain-indicator`,
    /// `writable-executable`, `entry-outside-sections`, `changed-during-scan`, `reputation`...
    public var code: String
    /// `clean` for facts that are worth saying but weigh nothing.
    public var weight: ScanVerdict
    /// What was seen, in a sentence.
    public var detail: String

    public init(code: String, weight: ScanVerdict, detail: String) {
        self.code = code
        self.weight = weight
        self.detail = detail
    }
}
