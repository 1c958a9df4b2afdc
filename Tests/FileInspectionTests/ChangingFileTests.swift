import Foundation
import Testing
@testable import FileInspection

/// Files that change while they are read: the scanner says so in its verdict, and file integrity
/// reads the file again, records it when it settles and reports it when it keeps changing. The
/// change is made from the readers' progress hook, between two chunks, so each case is certain.
@Suite("Files changing while read")
struct ChangingFileTests {
    static func append(_ path: String, _ text: String) {
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try? handle.close()
    }

    @Test("a file that grows while scanned is suspicious, with the reason; a still file is not")
    func scannerSeesGrowth() throws {
        let dir = try TempDir()
        let path = try dir.write("growing.log", Data(repeating: 0x61, count: 300_000))
        var options = FileScanner.Options()
        options.chunkSize = 64 * 1024
        let still = try FileScanner(options: options).scan(path: path)
        #expect(!still.changedDuringScan && still.verdict == .clean)

        let appended = Counter()
        options.progress = { bytes in
            if bytes == 64 * 1024 && appended.increment() == 1 { Self.append(path, "more\n") }
        }
        let report = try FileScanner(options: options).scan(path: path)
        #expect(appended.value == 1)
        #expect(report.changedDuringScan)
        #expect(report.verdict == .suspicious)
        #expect(report.reasons.contains { $0.code == "changed-during-scan" })
    }

    @Test("file integrity hashes a file again when it changed during the first read, and reports one that keeps changing")
    func integrityRereads() throws {
        let dir = try TempDir()
        let settles = try dir.write("w/settles.log", Data(repeating: 0x62, count: 10_000))
        let churns = try dir.write("w/churns.log", Data(repeating: 0x63, count: 10_000))
        let reads = Counter()
        var walker = TreeWalker(workers: 1)
        walker.afterRead = { path, attempt in
            // settles.log changes once, during its first read; churns.log during every read.
            if path == settles && attempt == 0 { reads.add(); Self.append(path, "x") }
            if path == churns { reads.add(); Self.append(path, "y") }
        }
        let snapshot = walker.snapshot([dir.path + "/w"])
        #expect(reads.value == 3)
        var expected = ContentHasher()
        (Data(repeating: 0x62, count: 10_000) + Data("x".utf8)).withUnsafeBytes { expected.update($0) }
        #expect(snapshot.states[settles]?.sha256 == expected.finalize())
        #expect(snapshot.states[settles]?.size == 10_001)
        let problem = try #require(snapshot.problems.first { $0.path == churns })
        #expect(problem.reason.contains("changed while being hashed"))
        #expect(snapshot.problems.count == 1)
        // The file is still listed (its metadata), without a hash: the comparison reports it as unreadable, never as deleted.
        #expect(snapshot.states[churns]?.sha256 == nil)
    }
}

/// A count shared with a hook that runs on a scanner's or walker's thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }

    @discardableResult
    func increment() -> Int { lock.withLock { count += 1; return count } }

    func add() { increment() }
}

/// A watched path that does not exist is said once, not reported as unreadable at every check;
/// a baseline entry under it that disappears is deleted.
@Suite("Absent watched paths")
struct AbsentRootTests {
    @Test("a missing root is absent, not a problem; what the baseline held there is deleted")
    func absentRoot() throws {
        let dir = try TempDir()
        try dir.write("ssh/authorized_keys", Data("ssh-ed25519 AAAA test\n".utf8))
        let roots = [dir.path + "/ssh", dir.path + "/never"]
        let walker = TreeWalker()
        let baseline = walker.snapshot(roots)
        #expect(baseline.problems.isEmpty)
        #expect(baseline.absentRoots == [dir.path + "/never"])
        try FileManager.default.removeItem(atPath: dir.path + "/ssh")
        let now = walker.snapshot(roots)
        #expect(now.problems.isEmpty && now.absentRoots == roots)
        let changes = IntegrityComparison.changes(baseline: baseline.states, current: now, roots: roots, ignore: .none)
        #expect(changes.map(\.kind) == [.deleted, .deleted])
        #expect(changes.map { String($0.path.dropFirst(dir.path.count)) } == ["/ssh", "/ssh/authorized_keys"])
    }
}
