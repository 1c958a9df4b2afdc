/// One process's `/proc/<pid>/stat` line, parsed. The name (`comm`) sits between the first `(`
/// and the last `)`: a process may name itself `a) (b`, and only the last `)` ends the name.
public struct ProcessStat: Sendable, Equatable {
    public var pid: Int32
    public var name: String
    /// `R` running, `S` sleeping, `D` disk wait, `Z` zombie, `T` stopped, ...
    public var state: Character
    public var parent: Int32
    /// CPU time in clock ticks, in user and kernel mode.
    public var userTicks: UInt64
    public var systemTicks: UInt64
    /// When the process started, in clock ticks after boot.
    public var startTicks: UInt64
    /// Virtual memory size in bytes, and resident pages.
    public var virtualBytes: UInt64
    public var residentPages: UInt64
    /// The kernel's flags (`PF_*`); `PF_KTHREAD` (0x00200000) marks a kernel thread.
    public var flags: UInt64 = 0

    /// Whether this is a kernel thread (no user space to stop; signals are not for it).
    public var isKernelThread: Bool { flags & 0x0020_0000 != 0 }

    /// Parses a stat line; nil when it is not one (truncated, no name, too few fields).
    public init?(_ line: String) {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
              let pid = Int32(line[..<open].trimmingCharacters(in: .whitespaces)) else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // After the name: state (3), ppid (4), ... utime (14), stime (15), ... starttime (22), vsize (23), rss (24).
        guard fields.count >= 22, let state = fields[0].first, let parent = Int32(fields[1]),
              let user = UInt64(fields[11]), let system = UInt64(fields[12]), let start = UInt64(fields[19]),
              let virtual = UInt64(fields[20]), let resident = UInt64(fields[21]) else { return nil }
        self.pid = pid
        self.name = String(line[line.index(after: open)..<close])
        self.state = state
        self.parent = parent
        self.userTicks = user
        self.systemTicks = system
        self.startTicks = start
        self.virtualBytes = virtual
        self.residentPages = resident
        self.flags = UInt64(fields[6]) ?? 0
    }
}
