/// Compares a baseline with a fresh snapshot, as AIDE's check does: pure, so every class of
/// change is tested on states built in the test.
public enum IntegrityComparison {
    /// The changes under `roots`, sorted by path. Baseline paths that are ignored now (or lie under an ignored directory), or outside
    /// the roots, are not reported; a file whose content could not be read this time (a problem
    /// of the snapshot) is compared on its metadata only.
    public static func changes(baseline: [String: FileState], current: TreeSnapshot, roots: [String], ignore: IgnorePatterns) -> [FileChange] {
        let roots = roots.map(TreeWalker.normalise)
        var out: [FileChange] = []
        for (path, new) in current.states {
            guard let old = baseline[path] else {
                out.append(FileChange(path: path, kind: .added, attributes: [], old: nil, new: new))
                continue
            }
            let differing = attributes(old, new)
            guard !differing.isEmpty else { continue }
            let metadataOnly = Set(differing).isSubset(of: ["mode", "uid", "gid"])
            out.append(FileChange(path: path, kind: metadataOnly ? .permissions : .modified, attributes: differing, old: old, new: new))
        }
        let unreadable = Set(current.problems.map(\.path))
        for (path, old) in baseline where current.states[path] == nil {
            guard roots.contains(where: { isUnder(path, $0) }), !ignore.covers(path), !unreadable.contains(path) else { continue }
            out.append(FileChange(path: path, kind: .deleted, attributes: [], old: old, new: nil))
        }
        return out.sorted { $0.path < $1.path }
    }

    /// The attributes that differ between two states of one path.
    public static func attributes(_ old: FileState, _ new: FileState) -> [String] {
        var out: [String] = []
        if old.kind != new.kind { out.append("type") }
        if old.kind == .file && new.kind == .file, let before = old.sha256, let now = new.sha256, before != now { out.append("sha256") }
        if old.size != new.size && old.kind != .directory { out.append("size") }
        if old.linkTarget != new.linkTarget { out.append("link") }
        if old.mtimeNanos != new.mtimeNanos && old.kind != .directory { out.append("mtime") }
        if old.inode != new.inode { out.append("inode") }
        if old.mode != new.mode { out.append("mode") }
        if old.uid != new.uid { out.append("uid") }
        if old.gid != new.gid { out.append("gid") }
        return out
    }

    /// Whether `path` is `root` or inside it.
    public static func isUnder(_ path: String, _ root: String) -> Bool {
        path == root || root == "/" || (path.hasPrefix(root) && path.utf8.dropFirst(root.utf8.count).first == 0x2f)
    }
}
