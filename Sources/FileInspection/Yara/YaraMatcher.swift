import Foundation

/// The scanner's YARA stage: the rules of a directory (`*.yar`, `*.yara`), run on each file up
/// to `maxBytes` (libyara maps a file whole). A match is malicious, or suspicious when the rule
/// is tagged `suspicious`.
public struct YaraMatcher: FileMatcher {
    public let rules: YaraRules
    public let maxBytes: UInt64
    public let directory: String
    /// Rule files left out (unreadable, too large, not text, not compiling), each with why.
    public let problems: [String]

    public var summary: String {
        "\(rules.ruleCount) rule(s) from \(rules.sources.count) file(s) in \(directory)"
            + (problems.isEmpty ? "" : "; \(problems.count) refused: " + problems.prefix(3).joined(separator: "; "))
    }

    public func reasons(path: String, report: ScanReport) -> [ScanReason] {
        guard report.size <= maxBytes else {
            return [ScanReason(code: "yara-skipped", weight: .clean, detail: "YARA was not run: the file is larger than its cap of \(maxBytes) bytes")]
        }
        let matches: [YaraMatch]
        do { matches = try rules.scan(path: path) } catch {
            return [ScanReason(code: "yara-error", weight: .clean, detail: "YARA could not scan the file: \(error)")]
        }
        return matches.map { match in
            let tags = match.tags.isEmpty ? "" : " (tags: \(match.tags.joined(separator: ", ")))"
            return ScanReason(code: "yara", weight: match.tags.contains("suspicious") ? .suspicious : .malicious, detail: "YARA rule \(match.rule) matched\(tags)")
        }
    }

    /// Most bytes of one rule file.
    public static let maxRuleFileBytes = 4 << 20
    /// What libyara is handed at most by default.
    public static let defaultMaxBytes: UInt64 = 64 << 20

    /// The matcher for the rules in `directory`, or why YARA is off (libyara missing, no rules,
    /// none that compiles), with how to fix it.
    public static func load(directory: String, maxBytes: UInt64 = defaultMaxBytes) -> Result<YaraMatcher, YaraUnavailable> {
        let library: YaraLibrary
        switch YaraLibrary.shared {
        case .success(let loaded): library = loaded
        case .failure(let error): return .failure(error)
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            return .failure(YaraUnavailable(reason: "no YARA rule directory at \(directory)"))
        }
        var sources: [(name: String, text: String)] = []
        var problems: [String] = []
        for name in names.sorted() where name.hasSuffix(".yar") || name.hasSuffix(".yara") {
            let path = directory + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int, size <= maxRuleFileBytes,
                  let data = FileManager.default.contents(atPath: path) else {
                problems.append("\(name): unreadable, or larger than \(maxRuleFileBytes) bytes")
                continue
            }
            guard let text = String(validating: data, as: UTF8.self), !text.contains("\0") else {
                problems.append("\(name): not UTF-8 text")
                continue
            }
            sources.append((name, text))
        }
        guard !sources.isEmpty else {
            return .failure(YaraUnavailable(reason: "no YARA rules (*.yar) in \(directory)" + (problems.isEmpty ? "" : ": " + problems.joined(separator: "; "))))
        }
        do {
            let rules = try YaraRules.compile(library: library, sources: sources)
            return .success(YaraMatcher(rules: rules, maxBytes: maxBytes, directory: directory, problems: problems + rules.problems))
        } catch {
            return .failure(YaraUnavailable(reason: "no YARA rule in \(directory) compiles: \(error)"))
        }
    }
}
