#if canImport(Glibc)
import Glibc
#endif

/// What a directory entry is, from its mode bits.
public enum FileKind: String, Sendable, Codable, CaseIterable {
    case file, directory, symlink, fifo, socket, charDevice = "char-device", blockDevice = "block-device", unknown

    public init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .file
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .charDevice
        case S_IFBLK: self = .blockDevice
        default: self = .unknown
        }
    }

    public var label: String {
        switch self {
        case .file: "regular file"
        case .directory: "directory"
        case .symlink: "symbolic link"
        case .fifo: "FIFO"
        case .socket: "socket"
        case .charDevice: "character device"
        case .blockDevice: "block device"
        case .unknown: "unknown kind"
        }
    }
}
