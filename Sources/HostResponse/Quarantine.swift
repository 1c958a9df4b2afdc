import FileInspection
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Moves files out of reach and puts them back exactly. A quarantined file lives in SecMon's
/// quarantine directory (mode 0700) under a random id, with its permissions removed, beside a
/// JSON record of where it came from: path, SHA-256, size, mode, owner, group, modification
/// time. Restoring puts the same bytes back with the same owner, mode and time, and refuses
/// rather than overwrite a file that now exists, or restore one whose bytes changed in quarantine.
///
/// Invariants: nothing is ever half-done. A move within one file system is one `rename`; across
/// file systems the copy is written, synced and verified before the original is removed, and a
/// failure removes the copy and leaves the original where it was.
public struct Quarantine: Sendable {
    /// The quarantine directory (created with mode 0700).
    public let directory: String
    /// Paths never quarantined: SecMon's own directories, the system's pseudo-file systems, and
    /// what an administrator allowlisted (exact paths, or directories ending in `/`).
    public var protected: [String]

    public init(directory: String, protected: [String] = []) {
        self.directory = directory
        self.protected = protected + ["/proc/", "/sys/", "/dev/", "/run/", "/boot/"]
    }

    /// What is kept of a quarantined file.
    public struct Record: Sendable, Equatable, Codable {
        public var id: String
        public var path: String
        public var sha256: String
        public var size: UInt64
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var mtimeSeconds: Int64
        public var mtimeNanoseconds: Int64
        /// When it was quarantined (seconds since 1970), and by whom.
        public var quarantinedAt: Int64
        public var by: String
        /// Why: the rule, alert and incident of an automatic quarantine (nil for a person's).
        public var reason: String?
    }

    /// The operating system's directories: an automatic response never quarantines what is in
    /// them (a reverse shell runs `/usr/bin/bash`, which the host cannot lose); a person can.
    public static let systemDirectories = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/etc/", "/boot/", "/var/lib/"]

    /// The system directory `path` is in, if any (checked on its normalised form).
    public static func systemDirectory(of path: String) -> String? {
        let normalised = TreeWalker.normalise(path) + "/"
        return systemDirectories.first { normalised.hasPrefix($0) }
    }

    /// Why a file was not quarantined or restored; nothing was changed.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Where the quarantined bytes of `id` are.
    public func storedPath(_ id: String) -> String { directory + "/" + id }

    /// Checks that `path` may be quarantined (absolute, not protected, a regular file, and for an
    /// `automatic` response not in the system's directories), without moving it.
    public func check(_ path: String, automatic: Bool = false) throws(Refusal) {
        if automatic, let system = Self.systemDirectory(of: path) {
            throw Refusal(description: "\(path) is in the system's directory \(system): SecMon quarantines system files only when a person asks (Files › Quarantine)")
        }
        guard path.hasPrefix("/"), !path.contains("\0"), path.utf8.count <= 4096 else {
            throw Refusal(description: "'\(path.prefix(80))' is not an absolute path")
        }
        let normalised = TreeWalker.normalise(path)
        for rule in protected + [directory + "/"] {
            if rule.hasSuffix("/") ? (normalised + "/").hasPrefix(rule) : normalised == rule {
                throw Refusal(description: "\(normalised) is protected ('\(rule)'): SecMon never quarantines it")
            }
        }
        var info = stat()
        guard lstat(normalised, &info) == 0 else { throw Refusal(description: "\(normalised): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Refusal(description: "\(normalised) is a \(FileKind(mode: info.st_mode).label), not a regular file: only files are quarantined")
        }
    }

    /// Moves `path` into quarantine for `by` and answers its record.
    public func quarantine(_ path: String, by: String = "secmon", reason: String? = nil, automatic: Bool = false) throws(Refusal) -> Record {
        try check(path, automatic: automatic)
        let source = TreeWalker.normalise(path)
        try ensureDirectory()
        let id = UUID().uuidString.lowercased()
        let target = storedPath(id)
        let fd = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Refusal(description: "\(source): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0, before.st_mode & S_IFMT == S_IFREG else { throw Refusal(description: "\(source) changed while it was being quarantined") }
        guard let sha256 = Self.hash(fd) else { throw Refusal(description: "\(source) could not be read") }
        let record = Record(id: id, path: source, sha256: sha256, size: UInt64(clamping: before.st_size), mode: UInt32(before.st_mode) & 0o7777,
                            uid: before.st_uid, gid: before.st_gid, mtimeSeconds: Int64(before.st_mtim.tv_sec), mtimeNanoseconds: Int64(before.st_mtim.tv_nsec),
                            quarantinedAt: Int64(time(nil)), by: by, reason: reason)
        if rename(source, target) == 0 {
            // The same inode moved: check it is the one that was hashed.
            var moved = stat()
            guard lstat(target, &moved) == 0, moved.st_ino == before.st_ino, moved.st_size == before.st_size,
                  moved.st_mtim.tv_sec == before.st_mtim.tv_sec, moved.st_mtim.tv_nsec == before.st_mtim.tv_nsec else {
                _ = rename(target, source)
                throw Refusal(description: "\(source) changed while it was being quarantined; it was left in place")
            }
        } else if errno == EXDEV {
            try copy(from: fd, to: target, expecting: sha256, source: source)
            guard unlink(source) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(target)
                throw Refusal(description: "\(source) was copied but could not be removed (\(reason)); the copy was deleted and the file left in place")
            }
        } else {
            throw Refusal(description: "\(source) could not be moved: \(String(cString: strerror(errno)))")
        }
        _ = chmod(target, 0)
        try writeRecord(record)
        return record
    }

    /// Puts a quarantined file back where it was, with its owner, mode and time.
    public func restore(_ record: Record) throws(Refusal) {
        let stored = storedPath(record.id)
        var existing = stat()
        if lstat(record.path, &existing) == 0 {
            throw Refusal(description: "\(record.path) exists now: move it away first; nothing was overwritten")
        }
        let parent = (record.path as NSString).deletingLastPathComponent
        var parentInfo = stat()
        guard lstat(parent, &parentInfo) == 0, parentInfo.st_mode & S_IFMT == S_IFDIR else {
            throw Refusal(description: "\(parent) is no longer a directory: create it, then restore")
        }
        let fd = open(stored, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw Refusal(description: "the quarantined copy \(record.id) is missing: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let sha256 = Self.hash(fd), sha256 == record.sha256 else {
            throw Refusal(description: "the quarantined copy of \(record.path) changed in quarantine (its SHA-256 is not the recorded one): not restored")
        }
        if rename(stored, record.path) == 0 {
            // The same inode is back.
        } else if errno == EXDEV {
            let temporary = parent + "/.secmon-restore-" + record.id
            try copy(from: fd, to: temporary, expecting: record.sha256, source: stored)
            guard rename(temporary, record.path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw Refusal(description: "\(record.path) could not be written (\(reason)); nothing was restored")
            }
            unlink(stored)
        } else {
            throw Refusal(description: "\(record.path) could not be restored: \(String(cString: strerror(errno)))")
        }
        // Owner before mode: chown clears setuid and setgid bits.
        _ = lchown(record.path, record.uid, record.gid)
        _ = chmod(record.path, mode_t(record.mode))
        var times = [timespec(tv_sec: Int(record.mtimeSeconds), tv_nsec: Int(record.mtimeNanoseconds)),
                     timespec(tv_sec: Int(record.mtimeSeconds), tv_nsec: Int(record.mtimeNanoseconds))]
        _ = utimensat(AT_FDCWD, record.path, &times, AT_SYMLINK_NOFOLLOW)
        unlink(storedPath(record.id) + ".json")
    }

    /// The records of the files in quarantine now, read from their JSON files.
    public func records() -> [Record] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
            return try? JSONDecoder().decode(Record.self, from: data)
        }.sorted { $0.path < $1.path }
    }

    // MARK: helpers

    private func ensureDirectory() throws(Refusal) {
        var info = stat()
        if lstat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Refusal(description: "\(directory) is not a directory: SecMon keeps quarantined files there") }
            return
        }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw Refusal(description: "cannot create the quarantine directory \(directory): \(String(cString: strerror(errno)))")
        }
        _ = chmod(directory, 0o700)
    }

    private func writeRecord(_ record: Record) throws(Refusal) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(record),
              FileManager.default.createFile(atPath: storedPath(record.id) + ".json", contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw Refusal(description: "the record of \(record.path) could not be written to \(directory)")
        }
    }

    /// SHA-256 of what `fd` holds, read from its start.
    static func hash(_ fd: Int32) -> String? {
        guard lseek(fd, 0, SEEK_SET) == 0 else { return nil }
        var hasher = ContentHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let got = read(fd, buffer.baseAddress, buffer.count)
            if got < 0 { if errno == EINTR || errno == EAGAIN { continue }; return nil }
            if got == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
        }
        return hasher.finalize()
    }

    /// Copies what `fd` holds to a new file `target`, synced, and checks its SHA-256; on any
    /// failure the partial copy is removed.
    private func copy(from fd: Int32, to target: String, expecting sha256: String, source: String) throws(Refusal) {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw Refusal(description: "\(source) could not be read again") }
        let out = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw Refusal(description: "cannot write \(target): \(String(cString: strerror(errno)))") }
        var hasher = ContentHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var failure: String?
        while failure == nil {
            let got = read(fd, buffer.baseAddress, buffer.count)
            if got < 0 { if errno == EINTR { continue }; failure = "reading \(source): \(String(cString: strerror(errno)))"; break }
            if got == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            var written = 0
            while written < got {
                let wrote = write(out, buffer.baseAddress! + written, got - written)
                if wrote < 0 { if errno == EINTR { continue }; failure = "writing \(target): \(String(cString: strerror(errno)))"; break }
                written += wrote
            }
        }
        if failure == nil && fsync(out) != 0 { failure = "syncing \(target): \(String(cString: strerror(errno)))" }
        close(out)
        if failure == nil && hasher.finalize() != sha256 { failure = "\(source) changed while it was copied" }
        if let failure {
            unlink(target)
            throw Refusal(description: failure + "; nothing was moved")
        }
    }
}
