#if canImport(Glibc)
import Glibc
#endif

/// What file integrity monitoring records of one path, as AIDE does: content hash, size,
/// permissions, owner, modification time, inode and link target.
public struct FileState: Sendable, Equatable, Codable {
    public var path: String
    public var kind: FileKind
    /// SHA-256 of a regular file's content; nil for other kinds, or when it could not be read.
    public var sha256: String?
    public var size: UInt64
    /// Permission bits with setuid, setgid and sticky (`0o4755`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Modification time in nanoseconds since 1970.
    public var mtimeNanos: Int64
    public var inode: UInt64
    /// Where a symbolic link points.
    public var linkTarget: String?

    public init(path: String, kind: FileKind, sha256: String?, size: UInt64, mode: UInt32, uid: UInt32, gid: UInt32,
                mtimeNanos: Int64, inode: UInt64, linkTarget: String? = nil) {
        self.path = path
        self.kind = kind
        self.sha256 = sha256
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtimeNanos = mtimeNanos
        self.inode = inode
        self.linkTarget = linkTarget
    }

    /// The mode as `ls` writes it after the type letter (`rwxr-xr-x`, `rwsr-xr-x`).
    public var permissions: String {
        let bits: [(UInt32, Character)] = [(0o400, "r"), (0o200, "w"), (0o100, "x"), (0o40, "r"), (0o20, "w"), (0o10, "x"), (0o4, "r"), (0o2, "w"), (0o1, "x")]
        var chars = bits.map { mode & $0.0 != 0 ? $0.1 : "-" }
        if mode & 0o4000 != 0 { chars[2] = chars[2] == "x" ? "s" : "S" }
        if mode & 0o2000 != 0 { chars[5] = chars[5] == "x" ? "s" : "S" }
        if mode & 0o1000 != 0 { chars[8] = chars[8] == "x" ? "t" : "T" }
        return String(chars)
    }

    /// `strerror` with the error's name, for messages that say what happened.
    static func describeErrno(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file or directory"
        case EACCES, EPERM: "permission denied (run as a user that can read it, or add it to the ignore patterns)"
        case ELOOP: "too many levels of symbolic links (a link loop)"
        case ENOTDIR: "a part of the path is not a directory"
        case EISDIR: "is a directory"
        default: String(cString: strerror(code))
        }
    }
}
