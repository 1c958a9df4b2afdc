/// User names by uid, from a `passwd` file (`/etc/passwd` by default; tests pass a fixture).
/// A uid the file does not name is shown as its number, as `ps` does.
public struct UserDirectory: Sendable {
    private let names: [UInt32: String]

    /// Parses `passwd` text: `name:password:uid:...` per line; malformed lines are skipped.
    public init(passwd text: String) {
        var names: [UInt32: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[0].isEmpty, let uid = UInt32(parts[2]) else { continue }
            if names[uid] == nil { names[uid] = String(parts[0]) }
        }
        self.names = names
    }

    /// Reads `path`; an unreadable file gives a directory that names no one.
    public init(path: String = "/etc/passwd") {
        let text = (try? ProcFileSystem(root: "").text(path, maxBytes: 4 << 20)) ?? ""
        self.init(passwd: text)
    }

    /// The name of `uid`, or the number as text.
    public func name(_ uid: UInt32) -> String { names[uid] ?? String(uid) }
}
