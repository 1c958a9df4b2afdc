import Analysis
import ArgumentParser
import DetectionEngine
import EventPipeline
import Foundation
import SecurityModel

/// `secmon rules`: check, list and test Sigma rules.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Validate, list and test detection rules.",
        subcommands: [Validate.self, List.self, Test.self]
    )

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check rule files; print errors and warnings as file:line: message (exit 1 on errors).")

        @Argument(help: "Rule directories or files (default: the bundled pack).")
        var paths: [String] = []

        @Option(name: .long, help: "YAML file of placeholder lists for 'expand' (name: [values]); without it they match nothing.")
        var placeholders: String?

        func run() throws {
            let targets = paths.isEmpty ? [try RulePackLocator.locate(nil)] : paths
            let table = try RuleLoading.placeholders(placeholders)
            var failed = false
            for path in targets {
                let result = RuleDirectory.load(path, placeholders: table)
                for diagnostic in result.diagnostics { print(diagnostic) }
                let set = result.ruleSet
                if let summary = RuleLoading.placeholderSummary(set, table) { print(summary) }
                let filters = Set(set.detections.flatMap(\.filterTitles)).count
                print("\(path): \(set.detections.count) detection rules, \(set.correlations.count) correlations, \(set.baselines.count) baselines, \(filters) filters; \(result.errors.count) errors, \(result.warnings.count) warnings")
                failed = failed || !result.errors.isEmpty
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the loaded rules.")

        @Option(name: .long, help: "Rule directory or file (default: the bundled pack; env SECMON_RULES).")
        var rules: String?

        @Option(name: .long, help: "YAML file of placeholder lists for 'expand' (name: [values]); without it they match nothing.")
        var placeholders: String?

        func run() throws {
            let set = try RuleLoading.load(try RulePackLocator.locate(rules), printWarnings: false, placeholders: try RuleLoading.placeholders(placeholders))
            var rows: [[String]] = [["RULE", "KIND", "LEVEL", "ALERTS", "SCOPE", "TITLE"]]
            for node in 0..<set.count {
                let info = set.info(ofNode: node)
                let scope: String
                if node < set.detections.count {
                    let rule = set.detections[node]
                    scope = rule.logSource.description + (rule.filterTitles.isEmpty ? "" : " (filtered: \(rule.filterTitles.joined(separator: ", ")))")
                } else if node >= set.detections.count + set.correlations.count {
                    scope = set.baselines[node - set.detections.count - set.correlations.count].summary
                } else {
                    let c = set.correlations[node - set.detections.count]
                    scope = "\(c.type.rawValue)(\(c.references.joined(separator: ", "))) by \(c.groupBy.isEmpty ? "-" : c.groupBy.joined(separator: ",")) within \(c.timespan)" + (c.condition.map { " \($0)" } ?? "")
                }
                rows.append([info.label, info.kind.rawValue, info.level.rawValue, set.raisesAlerts(node: node) ? "yes" : "no", scope, info.title])
            }
            var widths = rows[0].map { _ in 0 }
            for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
            for row in rows {
                print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run the rules' regression tests (<rules>.tests.yml beside each rule file); exit 1 on failure.")

        @Argument(help: "Rule directory (default: the bundled pack).")
        var path: String?

        @Flag(name: .long, help: "Print passing tests too.")
        var verbose = false

        @Option(name: .long, help: "YAML file of placeholder lists for 'expand' (name: [values]); without it they match nothing.")
        var placeholders: String?

        func run() throws {
            let directory = try RulePackLocator.locate(path)
            let table = try RuleLoading.placeholders(placeholders)
            let set = try RuleLoading.load(directory, printWarnings: false, placeholders: table)
            var diagnostics: [RuleDiagnostic] = []
            let specs = RuleDirectory.files(at: directory, &diagnostics) { $0.hasSuffix(".tests.yml") || $0.hasSuffix(".tests.yaml") }
            var passed = 0, failed = 0
            for spec in specs {
                let suite = RuleTestSuite.run(spec: spec, rules: set, referenceTime: Timestamp(secondsSince1970: Date().timeIntervalSince1970),
                                              reload: { RuleDirectory.load(directory, placeholders: $0) })
                diagnostics += suite.diagnostics
                for outcome in suite.outcomes {
                    if outcome.passed {
                        passed += 1
                        if verbose { print("pass \(spec):\(outcome.line): \(outcome.name)") }
                    } else {
                        failed += 1
                        print("FAIL \(spec):\(outcome.line): \(outcome.name)")
                        for failure in outcome.failures { print("     \(failure)") }
                    }
                }
            }
            for diagnostic in diagnostics { print(diagnostic) }
            print("\(passed + failed) rule tests: \(passed) passed, \(failed) failed")
            if failed > 0 || diagnostics.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
        }
    }
}
