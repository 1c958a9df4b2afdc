/// A stage that judges a whole file by other means than the streaming analysers (YARA rules, an
/// online reputation service): it gets the path and what the scan measured, and answers reasons.
public protocol FileMatcher: Sendable {
    /// What the stage is, for the report (`yara: 12 rules`).
    var summary: String { get }

    /// Reasons for the file at `path`, whose scan so far is `report`.
    func reasons(path: String, report: ScanReport) -> [ScanReason]
}
