import Foundation

/// Finds the rule directory to use: `--rules`, else `SECMON_RULES`, else the bundled pack
/// (`rules/` in the current directory, beside or above the executable as in a source checkout,
/// or under `share/secmon/rules` of an installation prefix).
public enum RulePackLocator {
    public struct NotFound: Error, CustomStringConvertible {
        public let description: String
    }

    /// The rule directory to use; throws when no pack can be found.
    public static func locate(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        if let env = ProcessInfo.processInfo.environment["SECMON_RULES"], !env.isEmpty { return env }
        var candidates = [FileManager.default.currentDirectoryPath + "/rules"]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = (executable as NSString).deletingLastPathComponent
            while directory.count > 1 {
                candidates.append(directory + "/rules")
                candidates.append(directory + "/share/secmon/rules")
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
        candidates += ["/usr/local/share/secmon/rules", "/usr/share/secmon/rules"]
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue,
               FileManager.default.fileExists(atPath: candidate + "/secmon") {
                return candidate
            }
        }
        throw NotFound(description: "cannot find the bundled rule pack (looked in ./rules, beside the executable and in /usr/share/secmon/rules); pass --rules DIR or set SECMON_RULES")
    }
}
