/// One process as the console, the API and `secmon host snapshot` show it.
public struct HostProcess: Sendable, Codable, Equatable {
    public var pid: Int32
    public var parent: Int32
    /// The real user, by id and name.
    public var uid: UInt32
    public var user: String
    /// The kernel's name for it (`comm`, at most 15 bytes; may hold spaces, parentheses, newlines).
    public var name: String
    /// The arguments joined by spaces; `[name]` for a kernel thread, empty for a zombie.
    public var commandLine: String
    /// The command line was longer than the read limit and is cut.
    public var commandLineTruncated: Bool
    /// The executable's path, when readable (not for kernel threads, zombies, or others' processes
    /// without privilege).
    public var executable: String?
    /// The executable was deleted (or replaced) after the process started it.
    public var executableDeleted: Bool
    public var currentDirectory: String?
    /// One letter: `R`, `S`, `D`, `Z`, `T`, `I`, ...
    public var state: String
    /// CPU use in percent of one core: over the last sampling interval, or over the process's
    /// life for a first sample (as `ps` shows it).
    public var cpuPercent: Double
    public var residentBytes: UInt64
    public var virtualBytes: UInt64
    /// Start time, microseconds since the Unix epoch (UTC).
    public var startTime: Int64
    public var threads: Int
    /// Sockets it holds open (the inodes lead to the socket tables).
    public var socketCount: Int
    public var isKernelThread: Bool

    /// Its sockets' inodes (not shown; the socket table's owners come from these).
    public var socketInodes: [UInt64] = []
    /// CPU time in clock ticks so far, and start in ticks after boot: together with the pid they
    /// tell one process from a later one that reused its pid.
    public var cpuTicks: UInt64 = 0
    public var startTicks: UInt64 = 0

    public init(pid: Int32, parent: Int32, uid: UInt32, user: String, name: String, commandLine: String, commandLineTruncated: Bool = false,
                executable: String?, executableDeleted: Bool = false, currentDirectory: String?, state: String, cpuPercent: Double = 0,
                residentBytes: UInt64 = 0, virtualBytes: UInt64 = 0, startTime: Int64, threads: Int = 1, socketCount: Int = 0,
                isKernelThread: Bool = false) {
        self.pid = pid
        self.parent = parent
        self.uid = uid
        self.user = user
        self.name = name
        self.commandLine = commandLine
        self.commandLineTruncated = commandLineTruncated
        self.executable = executable
        self.executableDeleted = executableDeleted
        self.currentDirectory = currentDirectory
        self.state = state
        self.cpuPercent = cpuPercent
        self.residentBytes = residentBytes
        self.virtualBytes = virtualBytes
        self.startTime = startTime
        self.threads = threads
        self.socketCount = socketCount
        self.isKernelThread = isKernelThread
    }

    enum CodingKeys: String, CodingKey {
        case pid, parent, uid, user, name, state, threads, executable
        case commandLine = "command_line", commandLineTruncated = "command_line_truncated"
        case executableDeleted = "executable_deleted", currentDirectory = "current_directory"
        case cpuPercent = "cpu_percent", residentBytes = "resident_bytes", virtualBytes = "virtual_bytes"
        case startTime = "start_time", startTicks = "start_ticks", socketCount = "socket_count", isKernelThread = "kernel_thread"
    }

    /// The state's name (`sleeping`, `zombie`, ...).
    public var stateName: String {
        switch state {
        case "R": "running"
        case "S": "sleeping"
        case "D": "disk wait"
        case "Z": "zombie"
        case "T": "stopped"
        case "t": "traced"
        case "I": "idle"
        case "X": "dead"
        default: state
        }
    }

    /// What identifies this process across samples (a pid reused later differs in start).
    public var identity: ProcessIdentity { ProcessIdentity(pid: pid, startTicks: startTicks) }
}

/// A process's pid and start time: unique over a boot, unlike the pid alone.
public struct ProcessIdentity: Hashable, Sendable {
    public var pid: Int32
    public var startTicks: UInt64
    public init(pid: Int32, startTicks: UInt64) {
        self.pid = pid
        self.startTicks = startTicks
    }
}
