import DetectionEngine
import Foundation

/// Finds and reads rule files: every `.yml`/`.yaml` under a directory (recursively, sorted), or a
/// single file. Rule test specifications (`*.tests.yml`) are left out.
public enum RuleDirectory {
    /// Reads the rule files at `path`. Unreadable files become error diagnostics; the rest load.
    public static func read(_ path: String) -> (sources: [RuleSource], diagnostics: [RuleDiagnostic]) {
        var diagnostics: [RuleDiagnostic] = []
        var sources: [RuleSource] = []
        for file in files(at: path, &diagnostics, matching: { isRuleFile($0) }) {
            guard let data = FileManager.default.contents(atPath: file) else {
                diagnostics.append(.init(.error, file: file, line: 0, code: .file, "cannot read the file (permissions?)"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(.init(.error, file: file, line: 0, code: .file, "not UTF-8 text; rule files must be UTF-8 YAML"))
                continue
            }
            sources.append(RuleSource(path: file, text: text))
        }
        return (sources, diagnostics)
    }

    /// Reads and compiles the rules at `path`: the read problems first, then the loader's. A path
    /// without any rule file is an error (a run with no rules would silently detect nothing).
    /// `placeholders` are the lists `expand` values resolve to.
    public static func load(_ path: String, placeholders: PlaceholderTable = PlaceholderTable()) -> RuleLoadResult {
        let read = read(path)
        var result = RuleLoader.load(read.sources, placeholders: placeholders)
        result.diagnostics = read.diagnostics + result.diagnostics
        if read.sources.isEmpty, read.diagnostics.isEmpty {
            result.diagnostics.append(.init(.error, file: path, line: 0, code: .file, "no rule files (*.yml) found"))
        }
        return result
    }

    /// Whether `name` is a rule file (not a test specification).
    public static func isRuleFile(_ name: String) -> Bool {
        (name.hasSuffix(".yml") || name.hasSuffix(".yaml")) && !name.hasSuffix(".tests.yml") && !name.hasSuffix(".tests.yaml")
    }

    /// Files under `path` whose name satisfies `matching`, sorted; `path` itself if it is a file.
    public static func files(at path: String, _ diagnostics: inout [RuleDiagnostic], matching: (String) -> Bool) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            diagnostics.append(.init(.error, file: path, line: 0, code: .file, "no such file or directory"))
            return []
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            diagnostics.append(.init(.error, file: path, line: 0, code: .file, "cannot list the directory (permissions?)"))
            return []
        }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            if matching(name) { found.append((path as NSString).appendingPathComponent(relative)) }
        }
        return found.sorted()
    }
}
