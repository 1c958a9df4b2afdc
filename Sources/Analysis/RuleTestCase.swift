import DetectionEngine
import Foundation
import LogFormats
import SecurityModel
import Yams

/// One regression test of a rule file: a sample log and the alerts it must produce.
///
/// Written beside the rules as `<rules>.tests.yml`:
///
/// ```yaml
/// tests:
///   - name: four failures from one address fire once
///     format: activity            # optional; detected otherwise
///     placeholders:               # optional: lists for `expand` (%indicator_ips%) in this case
///       indicator_ips: [203.0.113.7]
///     log: |                      # or log_file: sample.log (relative to this file)
///       {"timestamp": "...", ...}
///     expect:                     # the alerts of the rules in <rules>.yml
///       - rule: D-01              # id, name or title
///         alerts: 1               # default 1
///         group: {ip_address: 10.0.0.5}   # optional
///         events: 4               # optional: event count of each such alert
/// ```
///
/// `expect: []` means the rules of that file must stay silent on the log.
public struct RuleTestCase: Sendable {
    public struct Expectation: Sendable {
        public var rule: String
        public var alerts: Int
        public var group: [String: String]?
        public var events: Int?
    }

    public var name: String
    /// The specification file and the line of this case.
    public var specFile: String
    public var line: Int
    /// The rule file whose rules are checked.
    public var ruleFile: String
    public var format: LogFormat?
    /// The log text, or the path of the log file to read (relative paths resolved by the caller).
    public var log: String?
    public var logFile: String?
    public var expectations: [Expectation]
    /// Lists for the rules' `expand` placeholders in this case, if it gives them.
    public var placeholders: PlaceholderTable?

    /// The rule file a specification belongs to: `x.tests.yml` tests `x.yml`.
    public static func ruleFile(forSpec path: String) -> String {
        for suffix in [".tests.yml", ".tests.yaml"] where path.hasSuffix(suffix) {
            return String(path.dropLast(suffix.count)) + ".yml"
        }
        return path
    }

    /// Parses a specification file.
    public static func parse(specFile: String, text: String) -> (cases: [RuleTestCase], diagnostics: [RuleDiagnostic]) {
        var diagnostics: [RuleDiagnostic] = []
        func error(_ line: Int, _ message: String) { diagnostics.append(.init(.error, file: specFile, line: line, code: .test, message)) }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let failure {
            error(0, "invalid YAML: \(failure)")
            return ([], diagnostics)
        }
        guard let root, let testsNode = root["tests"], case .sequence(let tests) = testsNode else {
            error(1, "expected 'tests:' with a list of cases (name, log or log_file, expect)")
            return ([], diagnostics)
        }
        var cases: [RuleTestCase] = []
        for node in tests {
            let line = node.mark?.line ?? 0
            guard case .mapping = node else { error(line, "each test is a mapping"); continue }
            let name = node["name"]?.string ?? "test at line \(line)"
            var format: LogFormat?
            if let text = node["format"]?.string {
                guard let parsed = LogFormat(rawValue: text) else {
                    error(line, "unknown format '\(text)'; use \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                format = parsed
            }
            let log = node["log"]?.string
            let logFile = node["log_file"]?.string
            guard (log == nil) != (logFile == nil) else { error(line, "'\(name)': give either 'log' (inline text) or 'log_file'"); continue }
            guard let expectNode = node["expect"], case .sequence(let expects) = expectNode else {
                error(line, "'\(name)': 'expect' must be a list (empty for 'no alerts')")
                continue
            }
            var placeholders: PlaceholderTable?
            if let node = node["placeholders"] {
                do {
                    placeholders = try PlaceholderTable.parse(node: node)
                } catch let failure {
                    error(node.mark?.line ?? line, "'\(name)': placeholders: \(failure.message)")
                    continue
                }
            }
            var expectations: [Expectation] = []
            var ok = true
            for item in expects {
                guard let rule = item["rule"]?.string else { error(item.mark?.line ?? line, "'\(name)': each expectation names a 'rule'"); ok = false; break }
                var group: [String: String]?
                if let groupNode = item["group"], case .mapping(let mapping) = groupNode {
                    group = [:]
                    for (key, value) in mapping { if let k = key.string, let v = value.string { group![k] = v } }
                }
                expectations.append(Expectation(rule: rule, alerts: item["alerts"]?.int ?? 1, group: group, events: item["events"]?.int))
            }
            guard ok else { continue }
            cases.append(RuleTestCase(name: name, specFile: specFile, line: line, ruleFile: ruleFile(forSpec: specFile),
                                      format: format, log: log, logFile: logFile, expectations: expectations, placeholders: placeholders))
        }
        return (cases, diagnostics)
    }
}

/// The outcome of one ``RuleTestCase``.
public struct RuleTestResult: Sendable {
    public var testCase: RuleTestCase
    public var failures: [String]
    public var alerts: [Alert]
    public var passed: Bool { failures.isEmpty }
}

/// Runs rule regression tests: analyses the sample log with the whole rule set (so that filters
/// apply) and compares the alerts of the tested file's rules with the expectations.
public enum RuleTestRunner {
    public static func run(_ testCase: RuleTestCase, logText: String, rules: RuleSet, referenceTime: Timestamp) -> RuleTestResult {
        var analyzer = Analyzer(rules: rules, options: .init(format: testCase.format, referenceTime: referenceTime))
        analyzer.beginInput(testCase.name)
        var text = logText
        text.withUTF8 { buffer in
            var start = 0
            for index in 0...buffer.count where index == buffer.count || buffer[index] == 0x0A {
                if index > start || index < buffer.count {
                    analyzer.feed(UnsafeBufferPointer(rebasing: buffer[start..<index]))
                }
                start = index + 1
            }
        }
        let report = analyzer.finish()
        var failures: [String] = []
        for rejection in report.rejections { failures.append("sample line \(rejection.line) was rejected: \(rejection.reason)") }
        let fileRules = Set((0..<rules.count).filter { rules.info(ofNode: $0).file == testCase.ruleFile })
        if fileRules.isEmpty { failures.append("no rules loaded from \(testCase.ruleFile)") }
        let alerts = report.alerts.filter { fileRules.contains($0.node) }
        var explained = Set<Int>()
        for expectation in testCase.expectations {
            let matching = alerts.filter { alert in
                let info = alert.rule
                guard [info.id, info.name, info.title].contains(expectation.rule) else { return false }
                if let group = expectation.group {
                    for (field, value) in group where !alert.group.contains(where: { $0.field == field && $0.value == value }) { return false }
                }
                return true
            }
            for alert in matching { explained.insert(alert.number) }
            if matching.count != expectation.alerts {
                let groupText = expectation.group.map { " for \($0.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", "))" } ?? ""
                failures.append("expected \(expectation.alerts) alert(s) of \(expectation.rule)\(groupText), got \(matching.count)")
            }
            if let events = expectation.events {
                for alert in matching where alert.eventCount != events {
                    failures.append("expected \(expectation.rule) alerts of \(events) events, got one of \(alert.eventCount) (\(alert.groupDescription))")
                }
            }
        }
        for alert in alerts where !explained.contains(alert.number) {
            failures.append("unexpected alert \(alert.rule.label) (\(alert.groupDescription.isEmpty ? "no group" : alert.groupDescription), \(alert.eventCount) events)")
        }
        return RuleTestResult(testCase: testCase, failures: failures, alerts: alerts)
    }
}
