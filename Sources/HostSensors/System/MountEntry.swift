/// One line of `/proc/mounts`: device, mount point and filesystem type. The kernel writes a
/// space, tab, newline or backslash in a path as an octal escape (`\040`); they are decoded.
public struct MountEntry: Sendable, Equatable {
    public var device: String
    public var mountPoint: String
    public var fileSystem: String

    /// Filesystems with no disk behind them, left out of disk usage (as `df` leaves them out by default).
    public static let pseudoFileSystems: Set<String> = [
        "proc", "sysfs", "devpts", "cgroup", "cgroup2", "securityfs", "pstore", "debugfs", "tracefs", "mqueue",
        "hugetlbfs", "configfs", "fusectl", "bpf", "binfmt_misc", "autofs", "rpc_pipefs", "nsfs", "efivarfs",
        "selinuxfs", "devtmpfs", "ramfs", "squashfs", "nfsd", "fuse.gvfsd-fuse", "fuse.portal",
    ]

    /// Every well-formed line of `text`; others are counted in `rejected`.
    public static func parse(_ text: String, rejected: inout Int) -> [MountEntry] {
        var entries: [MountEntry] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 3 else { rejected += 1; continue }
            entries.append(MountEntry(device: unescape(parts[0]), mountPoint: unescape(parts[1]), fileSystem: String(parts[2])))
        }
        return entries
    }

    /// Whether the filesystem has a disk (or a memory budget, like tmpfs) worth showing.
    public var hasStorage: Bool { !Self.pseudoFileSystems.contains(fileSystem) }

    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count,
               let value = UInt8(String(decoding: utf8[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
