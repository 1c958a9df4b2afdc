import DetectionEngine
import EventPipeline
import Foundation

/// Loads a rule directory for a command, printing diagnostics in `file:line:` form.
enum RuleLoading {
    /// Loads `path`; prints errors (and warnings when asked) to standard error and fails on errors.
    static func load(_ path: String, printWarnings: Bool) throws -> RuleSet {
        let result = RuleDirectory.load(path)
        for diagnostic in result.diagnostics where diagnostic.severity == .error || printWarnings {
            FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
        }
        if !result.errors.isEmpty {
            throw CommandLineError("\(result.errors.count) error(s) in the rules under \(path); fix them or pass another --rules directory ('secmon rules validate \(path)' lists them)",
                                   exitCode: 2)
        }
        return result.ruleSet
    }
}
