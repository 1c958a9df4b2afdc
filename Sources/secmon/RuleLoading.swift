import DetectionEngine
import EventPipeline
import Foundation

/// Loads a rule directory for a command, printing diagnostics in `file:line:` form.
enum RuleLoading {
    /// Loads `path`; prints errors (and warnings when asked) to standard error and fails on errors.
    static func load(_ path: String, printWarnings: Bool, placeholders: PlaceholderTable = PlaceholderTable()) throws -> RuleSet {
        let result = RuleDirectory.load(path, placeholders: placeholders)
        for diagnostic in result.diagnostics where diagnostic.severity == .error || printWarnings {
            FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
        }
        if !result.errors.isEmpty {
            throw CommandLineError("\(result.errors.count) error(s) in the rules under \(path); fix them or pass another --rules directory ('secmon rules validate \(path)' lists them)",
                                   exitCode: 2)
        }
        return result.ruleSet
    }

    /// Reads a placeholder file given with `--placeholders` (none: no lists, so `expand` values
    /// match nothing).
    static func placeholders(_ path: String?) throws -> PlaceholderTable {
        guard let path else { return PlaceholderTable() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandLineError("--placeholders \(path): cannot read the file", exitCode: 2)
        }
        do {
            return try PlaceholderTable.parse(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw CommandLineError("--placeholders \(path): \(error.message) (expected a YAML mapping such as 'indicator_ips: [203.0.113.7, 198.51.100.0/24]')", exitCode: 2)
        }
    }

    /// The line saying which placeholders the rules use and how many entries each has.
    static func placeholderSummary(_ set: RuleSet, _ table: PlaceholderTable) -> String? {
        guard !set.placeholders.isEmpty else { return nil }
        let parts = set.placeholders.keys.sorted().map { name -> String in
            let users = set.placeholders[name]!.joined(separator: ", ")
            guard let list = table[name] else { return "%\(name)% (\(users)): no list given, matches nothing" }
            return "%\(name)% (\(users)): \(list.count) entries"
        }
        return "placeholders: " + parts.joined(separator: "; ")
    }
}
