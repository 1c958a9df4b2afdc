import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// What a walk of the watched paths found: every state, and every path it could not read.
public struct TreeSnapshot: Sendable {
    /// By path.
    public var states: [String: FileState] = [:]
    /// Paths that could not be read or hashed, with why: they are reported, never dropped silently.
    public var problems: [FileScanError] = []
    /// Paths skipped by the ignore patterns.
    public var ignored = 0
    /// Bytes hashed.
    public var bytesHashed: UInt64 = 0
    /// Watched paths that do not exist (`/root/.ssh` on a host where root never used SSH): not
    /// problems, said once per walk; a baseline entry under one is reported as deleted.
    public var absentRoots: [String] = []

    public init() {}
}

/// Walks watched paths without following symbolic links (so link loops cannot trap it), records
/// each entry's `FileState`, and hashes regular files on every core. Special files (FIFOs,
/// devices, sockets) are recorded but never opened. A file that changes while it is hashed is
/// hashed again; if it keeps changing it is reported as a problem.
///
/// Invariant: the hashing workers write only their own slots of one results buffer, which the
/// walk allocates before and reads after `concurrentPerform`.
public struct TreeWalker: Sendable {
    public var ignore: IgnorePatterns
    public var workers: Int
    public var chunkSize: Int
    /// Called on a hashing thread after a file is read and before it is checked for change, with
    /// its path and the attempt (0, then 1): the tests change files here.
    public var afterRead: (@Sendable (String, Int) -> Void)?

    public init(ignore: IgnorePatterns = .none, workers: Int = 0, chunkSize: Int = 256 * 1024) {
        self.ignore = ignore
        self.workers = workers > 0 ? workers : max(1, min(8, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        self.chunkSize = chunkSize
    }

    public func snapshot(_ roots: [String]) -> TreeSnapshot {
        var result = TreeSnapshot()
        var files: [FileState] = []
        var visited = Set<DirectoryID>()
        for root in roots {
            let path = Self.normalise(root)
            if ignore.matches(path) { result.ignored += 1; continue }
            walk(path, into: &files, result: &result, visited: &visited)
        }
        hash(&files, result: &result)
        for state in files { result.states[state.path] = state }
        return result
    }

    private struct DirectoryID: Hashable { let device: UInt64; let inode: UInt64 }

    private func walk(_ root: String, into files: inout [FileState], result: inout TreeSnapshot, visited: inout Set<DirectoryID>) {
        var pending = [root]
        while let path = pending.popLast() {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if path == root && errno == ENOENT { result.absentRoots.append(root); continue }
                result.problems.append(FileScanError(path: path, reason: FileState.describeErrno(errno)))
                continue
            }
            let state = Self.state(path, info)
            switch state.kind {
            case .directory:
                files.append(state)
                guard visited.insert(DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { continue }
                guard let dir = opendir(path) else {
                    result.problems.append(FileScanError(path: path, reason: "cannot list: " + FileState.describeErrno(errno)))
                    continue
                }
                var children: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafePointer(to: entry.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                    }
                    if name == "." || name == ".." { continue }
                    let child = path == "/" ? "/" + name : path + "/" + name
                    if ignore.matches(child) { result.ignored += 1; continue }
                    children.append(child)
                }
                closedir(dir)
                // Reverse order on the stack, so paths come out sorted.
                pending.append(contentsOf: children.sorted(by: >))
            case .symlink:
                var link = state
                link.linkTarget = Self.readLink(path)
                files.append(link)
            default:
                files.append(state)
            }
        }
    }

    /// Hashes the regular files of `files` in place, `workers` at a time.
    private func hash(_ files: inout [FileState], result: inout TreeSnapshot) {
        let indices = files.indices.filter { files[$0].kind == .file }
        guard !indices.isEmpty else { return }
        let outcomes = UnsafeMutableBufferPointer<Outcome?>.allocate(capacity: indices.count)
        outcomes.initialize(repeating: nil)
        defer { outcomes.deallocate() }
        let slots = UnsafeSendableBuffer(outcomes)
        let snapshot = files
        let workers = min(self.workers, indices.count)
        let chunk = chunkSize
        let afterRead = self.afterRead
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
            defer { buffer.deallocate() }
            var slot = worker
            while slot < indices.count {
                slots.buffer[slot] = Self.hashFile(snapshot[indices[slot]], buffer: buffer, afterRead: afterRead)
                slot += workers
            }
        }
        for (slot, index) in indices.enumerated() {
            switch outcomes[slot] {
            case .hashed(let state, let bytes)?:
                files[index] = state
                result.bytesHashed += bytes
            case .failed(let reason)?:
                result.problems.append(FileScanError(path: files[index].path, reason: reason))
            case nil:
                break
            }
        }
    }

    private enum Outcome { case hashed(FileState, UInt64), failed(String) }

    /// The file's state with its hash, read twice at most if it changes underneath.
    private static func hashFile(_ listed: FileState, buffer: UnsafeMutableRawBufferPointer, afterRead: (@Sendable (String, Int) -> Void)?) -> Outcome {
        var lastReason = ""
        for attempt in 0..<2 {
            let fd = open(listed.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { return .failed(FileState.describeErrno(errno)) }
            defer { close(fd) }
            var before = stat()
            guard fstat(fd, &before) == 0 else { return .failed(FileState.describeErrno(errno)) }
            // Replaced between the listing and the open by something that is not a regular file.
            guard before.st_mode & S_IFMT == S_IFREG else { return .failed("replaced by a \(FileKind(mode: before.st_mode).label) while being checked") }
            var hasher = ContentHasher()
            var total: UInt64 = 0
            var failure: String?
            while true {
                let got = read(fd, buffer.baseAddress, buffer.count)
                if got < 0 { if errno == EINTR || errno == EAGAIN { continue }; failure = FileState.describeErrno(errno); break }
                if got == 0 { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
                total += UInt64(got)
            }
            if let failure { return .failed("read failed: " + failure) }
            afterRead?(listed.path, attempt)
            var after = stat()
            guard fstat(fd, &after) == 0 else { return .failed(FileState.describeErrno(errno)) }
            if after.st_size == before.st_size, after.st_mtim.tv_sec == before.st_mtim.tv_sec,
               after.st_mtim.tv_nsec == before.st_mtim.tv_nsec, total == UInt64(clamping: after.st_size) {
                var state = state(listed.path, after)
                state.sha256 = hasher.finalize()
                return .hashed(state, total)
            }
            lastReason = "changed while being hashed (\(total) bytes read, size now \(after.st_size)); checked twice"
        }
        return .failed(lastReason)
    }

    static func state(_ path: String, _ info: stat) -> FileState {
        let nanos = Int64(info.st_mtim.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        return FileState(
            path: path, kind: FileKind(mode: info.st_mode), sha256: nil, size: UInt64(clamping: info.st_size),
            mode: UInt32(info.st_mode) & 0o7777, uid: info.st_uid, gid: info.st_gid,
            mtimeNanos: nanos.overflow ? .max : nanos.partialValue &+ Int64(info.st_mtim.tv_nsec), inode: UInt64(info.st_ino))
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let length = readlink(path, &buffer, 4096)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Without trailing slashes (except for `/` itself) and repeated slashes.
    public static func normalise(_ path: String) -> String {
        var out = ""
        var lastSlash = false
        for c in path {
            if c == "/" { if lastSlash { continue }; lastSlash = true } else { lastSlash = false }
            out.append(c)
        }
        while out.count > 1 && out.hasSuffix("/") { out.removeLast() }
        return out
    }
}

/// The results buffer handed to the hashing workers, each of which writes only its own slots.
private struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
