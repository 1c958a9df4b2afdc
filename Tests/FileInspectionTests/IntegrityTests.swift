import Foundation
import Testing
@testable import FileInspection

/// File integrity on a temporary tree: each kind of change is found, nothing else is reported,
/// ignore patterns hold, and hostile entries (FIFOs, link loops, unreadable files) are handled.
@Suite("File integrity")
struct IntegrityTests {
    @Test("added, modified, deleted and permission changes are each reported, and nothing else")
    func changeKinds() throws {
        let dir = try TempDir()
        try dir.write("etc/passwd", Data("root:x:0:0::/root:/bin/bash\n".utf8))
        try dir.write("etc/hosts", Data("127.0.0.1 localhost\n".utf8))
        try dir.write("etc/motd", Data("hello\n".utf8))
        try dir.write("etc/app/app.conf", Data("a=1\n".utf8))
        #expect(symlink("passwd", dir.path + "/etc/link") == 0)
        let walker = TreeWalker()
        let roots = [dir.path + "/etc/"]
        let baseline = walker.snapshot(roots)
        #expect(baseline.problems.isEmpty)
        #expect(baseline.states.count == 7)  // etc, etc/app, 4 files, 1 link
        #expect(baseline.states[dir.path + "/etc/link"]?.linkTarget == "passwd")
        var expected = ContentHasher()
        Data("root:x:0:0::/root:/bin/bash\n".utf8).withUnsafeBytes { expected.update($0) }
        #expect(baseline.states[dir.path + "/etc/passwd"]?.sha256 == expected.finalize())
        #expect(baseline.bytesHashed == 28 + 20 + 6 + 4)
        // No change: nothing reported.
        #expect(IntegrityComparison.changes(baseline: baseline.states, current: walker.snapshot(roots), roots: roots, ignore: .none).isEmpty)

        try dir.write("etc/passwd", Data("root:x:0:0::/root:/bin/bash\nevil:x:0:0::/:/bin/sh\n".utf8))
        try FileManager.default.removeItem(atPath: dir.path + "/etc/motd")
        try dir.write("etc/cron.d/backdoor", Data("* * * * * root sh\n".utf8))
        #expect(chmod(dir.path + "/etc/hosts", 0o666) == 0)
        try FileManager.default.removeItem(atPath: dir.path + "/etc/link")
        #expect(symlink("hosts", dir.path + "/etc/link") == 0)
        let now = walker.snapshot(roots)
        let changes = IntegrityComparison.changes(baseline: baseline.states, current: now, roots: roots, ignore: .none)
        let byPath = Dictionary(uniqueKeysWithValues: changes.map { (String($0.path.dropFirst(dir.path.count)), $0) })
        #expect(Set(byPath.keys) == ["/etc/passwd", "/etc/motd", "/etc/cron.d", "/etc/cron.d/backdoor", "/etc/hosts", "/etc/link"])
        #expect(byPath["/etc/passwd"]?.kind == .modified)
        #expect(byPath["/etc/passwd"]?.attributes.starts(with: ["sha256", "size"]) == true)
        #expect(byPath["/etc/passwd"]?.contentChanged == true)
        #expect(byPath["/etc/motd"]?.kind == .deleted)
        #expect(byPath["/etc/cron.d/backdoor"]?.kind == .added)
        #expect(byPath["/etc/hosts"]?.kind == .permissions)
        #expect(byPath["/etc/hosts"]?.attributes == ["mode"])
        #expect(byPath["/etc/hosts"]?.new?.permissions == "rw-rw-rw-")
        #expect(byPath["/etc/link"]?.kind == .modified)
        #expect(byPath["/etc/link"]?.attributes.contains("link") == true)
        // The directories whose entries changed are not reported for their mtime.
        #expect(byPath["/etc"] == nil)
    }

    @Test("ignore patterns: a basename glob anywhere, a path glob with **, ignored directories are not entered")
    func ignore() throws {
        let patterns = try IgnorePatterns(["*.swp", "/var/log/**", "# a comment", "", "/srv/*/cache"])
        #expect(patterns.matches("/etc/.passwd.swp"))
        #expect(patterns.matches("/var/log/nginx/access.log"))
        #expect(!patterns.matches("/var/log"))
        #expect(patterns.matches("/srv/app/cache"))
        #expect(!patterns.matches("/srv/app/sub/cache"))
        #expect(!patterns.matches("/etc/passwd"))
        #expect(try IgnorePatterns(["/a/**/b"]).matches("/a/b"))
        #expect(try IgnorePatterns(["/a/**/b"]).matches("/a/x/y/b"))
        #expect(try IgnorePatterns(["/a/?"]).matches("/a/z"))
        #expect(!(try IgnorePatterns(["/a/?"]).matches("/a//")))
        #expect(throws: FileScanError.self) { try IgnorePatterns(["/a/***"]) }
        // The fast shapes (literal, *suffix, prefix/**) answer as the general glob does.
        let paths = ["/etc/mtab", "/etc/x.swp", "/etc/sub/x.swp", "/x.swp/y", "/var/log", "/var/log/a", "/var/log/a/b", "/var/logs/a", ".swp", "/etc/mtab2"]
        for pattern in ["/etc/mtab", "*.swp", "*~", "/var/log/**", "mtab", "/etc/*.swp"] {
            let compiled = try IgnorePatterns([pattern])
            for path in paths {
                let bytes = Array(pattern.utf8)
                let text = bytes.contains(0x2f) ? Array(path.utf8) : Array(path.split(separator: "/").last.map { Array($0.utf8) } ?? [])
                #expect(compiled.matches(path) == IgnorePatterns.glob(bytes, text), "\(pattern) on \(path)")
            }
        }

        let dir = try TempDir()
        try dir.write("tree/keep.conf", Data("x".utf8))
        try dir.write("tree/.keep.conf.swp", Data("x".utf8))
        try dir.write("tree/cache/a", Data("x".utf8))
        try dir.write("tree/cache/b", Data("x".utf8))
        let walker = TreeWalker(ignore: try IgnorePatterns(["*.swp", dir.path + "/tree/cache"]))
        let snapshot = walker.snapshot([dir.path + "/tree"])
        #expect(Set(snapshot.states.keys) == [dir.path + "/tree", dir.path + "/tree/keep.conf"])
        #expect(snapshot.ignored == 2)
        // A baseline entry ignored now is not reported as deleted.
        let old = TreeWalker().snapshot([dir.path + "/tree"])
        #expect(IntegrityComparison.changes(baseline: old.states, current: snapshot, roots: [dir.path + "/tree"], ignore: walker.ignore).isEmpty)
    }

    @Test("FIFOs are recorded but never opened, link loops are not followed, unreadable files are problems, not deletions")
    func hostileEntries() throws {
        let dir = try TempDir()
        #expect(mkfifo(dir.path + "/pipe", 0o600) == 0)
        #expect(symlink(dir.path + "/loop-b", dir.path + "/loop-a") == 0)
        #expect(symlink(dir.path + "/loop-a", dir.path + "/loop-b") == 0)
        #expect(symlink(dir.path, dir.path + "/self") == 0)
        try dir.write("secret", Data("s".utf8))
        let snapshot = TreeWalker().snapshot([dir.path, dir.path + "/missing"])
        #expect(snapshot.states[dir.path + "/pipe"]?.kind == .fifo)
        #expect(snapshot.states[dir.path + "/pipe"]?.sha256 == nil)
        #expect(snapshot.states[dir.path + "/loop-a"]?.kind == .symlink)
        #expect(snapshot.states[dir.path + "/self"]?.linkTarget == dir.path)
        // A missing watched path is absent, not a problem; a path that vanishes below a root is.
        #expect(snapshot.problems.isEmpty && snapshot.absentRoots == [dir.path + "/missing"])
        // An unreadable file (as root, reads succeed: the check is skipped there).
        if getuid() != 0 {
            #expect(chmod(dir.path + "/secret", 0) == 0)
            let unreadable = TreeWalker().snapshot([dir.path])
            #expect(unreadable.problems.contains { $0.path == dir.path + "/secret" && $0.reason.contains("permission denied") })
            let changes = IntegrityComparison.changes(baseline: snapshot.states, current: unreadable, roots: [dir.path], ignore: .none)
            #expect(changes.map(\.kind) == [.permissions])
        }
    }

    @Test("metadata-only and type changes are classified as AIDE does")
    func attributes() {
        let base = FileState(path: "/x", kind: .file, sha256: "aa", size: 1, mode: 0o644, uid: 0, gid: 0, mtimeNanos: 1, inode: 9)
        var owner = base
        owner.uid = 1000
        #expect(IntegrityComparison.attributes(base, owner) == ["uid"])
        var touched = base
        touched.mtimeNanos = 2
        #expect(IntegrityComparison.attributes(base, touched) == ["mtime"])
        var replaced = base
        replaced.kind = .symlink
        replaced.sha256 = nil
        replaced.linkTarget = "/tmp/x"
        #expect(IntegrityComparison.attributes(base, replaced) == ["type", "link"])
        var setuid = base
        setuid.mode = 0o4755
        #expect(setuid.permissions == "rwsr-xr-x")
        let changes = IntegrityComparison.changes(
            baseline: ["/x": base], current: { var s = TreeSnapshot(); s.states["/x"] = setuid; return s }(), roots: ["/"], ignore: .none)
        #expect(changes.map(\.kind) == [.permissions])
        #expect(changes.first?.contentChanged == false)
        #expect(IntegrityComparison.isUnder("/etc/passwd", "/etc"))
        #expect(!IntegrityComparison.isUnder("/etcetera", "/etc"))
        #expect(TreeWalker.normalise("//etc///ssh/") == "/etc/ssh")
    }
}
