import DetectionEngine
import Foundation
import SecurityModel

/// Runs one regression-test file (`<rules>.tests.yml`): each case's sample log (inline, or a
/// `log_file` beside the spec) through the whole rule set, compared with its expectations. What
/// `secmon rules test` and the console's rules page both run.
public struct RuleTestSuite: Sendable {
    /// One case's outcome: passed, or why not.
    public struct Outcome: Sendable {
        public var name: String
        public var line: Int
        public var failures: [String]
        public var passed: Bool { failures.isEmpty }
    }

    public var spec: String
    public var outcomes: [Outcome]
    /// Problems with the spec file itself (unreadable, malformed).
    public var diagnostics: [RuleDiagnostic]

    public var passed: Int { outcomes.filter(\.passed).count }
    public var failed: Int { outcomes.count - passed }

    /// The spec file beside `ruleFile` (`d01_brute_force.yml` → `d01_brute_force.tests.yml`), if it exists.
    public static func spec(forRuleFile ruleFile: String) -> String? {
        for (suffix, replacement) in [(".yml", ".tests.yml"), (".yaml", ".tests.yaml")] where ruleFile.hasSuffix(suffix) {
            let candidate = String(ruleFile.dropLast(suffix.count)) + replacement
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs every case of `spec` with `rules`. A case that gives its own placeholder lists runs
    /// with the rules `reload` compiles against them (the same files, other lists).
    public static func run(spec: String, rules: RuleSet, referenceTime: Timestamp,
                           reload: ((PlaceholderTable) -> RuleLoadResult)? = nil) -> RuleTestSuite {
        guard let text = try? String(contentsOfFile: spec, encoding: .utf8) else {
            return RuleTestSuite(spec: spec, outcomes: [], diagnostics: [.init(.error, file: spec, line: 0, code: .file, "cannot read the file")])
        }
        let parsed = RuleTestCase.parse(specFile: spec, text: text)
        var outcomes: [Outcome] = []
        for testCase in parsed.cases {
            var log = testCase.log ?? ""
            if let file = testCase.logFile {
                let resolved = file.hasPrefix("/") ? file : ((spec as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)
                guard let contents = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                    outcomes.append(Outcome(name: testCase.name, line: testCase.line, failures: ["cannot read log_file \(resolved)"]))
                    continue
                }
                log = contents
            }
            var caseRules = rules
            if let table = testCase.placeholders {
                guard let reload else {
                    outcomes.append(Outcome(name: testCase.name, line: testCase.line, failures: ["this case gives placeholder lists, and the rules cannot be reloaded here"]))
                    continue
                }
                let loaded = reload(table)
                guard loaded.errors.isEmpty else {
                    outcomes.append(Outcome(name: testCase.name, line: testCase.line, failures: loaded.errors.map { "with its placeholders: \($0)" }))
                    continue
                }
                caseRules = loaded.ruleSet
            }
            let result = RuleTestRunner.run(testCase, logText: log, rules: caseRules, referenceTime: referenceTime)
            outcomes.append(Outcome(name: testCase.name, line: testCase.line, failures: result.failures))
        }
        return RuleTestSuite(spec: spec, outcomes: outcomes, diagnostics: parsed.diagnostics)
    }
}
