import Foundation

/// Reads one process from `/proc/<pid>`: `stat`, `status`, `cmdline`, the `exe` and `cwd` links,
/// and the `fd` links (its sockets). Every read is bounded; a process may vanish between any two.
public struct ProcessReader: Sendable {
    /// What a read found.
    public enum Outcome: Sendable {
        case process(HostProcess)
        /// The process ended before its `stat` could be read.
        case vanished
        /// `stat` or `status` was there but did not parse.
        case malformed(String)
    }

    /// The longest command line read; a longer one is cut and flagged.
    public static let maxCommandLineBytes = 64 * 1024

    public let proc: ProcFileSystem
    public let users: UserDirectory
    /// The host's clock: ticks per second and the boot time, to turn tick counts into times.
    public let clock: HostClock

    public init(proc: ProcFileSystem, users: UserDirectory, clock: HostClock) {
        self.proc = proc
        self.users = users
        self.clock = clock
    }

    /// Reads `pid`. Parts that cannot be read (another user's `exe` or `fd` without privilege)
    /// are left empty and the process counted once in `unreadable`; zombies and kernel threads
    /// have no such parts to read.
    /// - Parameter sockets: list the `fd` links for the process's sockets (skipped when only its
    ///   identity and command line are wanted, as for the parent of a new process).
    public func read(_ pid: Int32, sockets: Bool = true, unreadable: inout Int) -> Outcome {
        let base = String(pid)
        guard let statText = try? proc.text(base + "/stat", maxBytes: 4096) else { return .vanished }
        guard let stat = ProcessStat(statText) else { return .malformed("\(proc.root)/\(base)/stat: not a stat line") }
        guard let statusText = try? proc.text(base + "/status", maxBytes: 16 * 1024) else { return .vanished }
        guard let status = ProcessStatus(statusText) else { return .malformed("\(proc.root)/\(base)/status: no Uid line") }

        // Kernel threads are children of kthreadd (pid 2), or kthreadd itself; they have no command line.
        let isKernelThread = pid == 2 || stat.parent == 2
        var commandLine = ""
        var truncated = false
        if !isKernelThread, let bytes = try? proc.read(base + "/cmdline", maxBytes: Self.maxCommandLineBytes) {
            truncated = bytes.count >= Self.maxCommandLineBytes
            var end = bytes.count
            while end > 0, bytes[end - 1] == 0 { end -= 1 }
            commandLine = String(decoding: bytes[0..<end].map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        }
        if isKernelThread { commandLine = "[\(stat.name)]" }

        var executable: String?
        var deleted = false
        var directory: String?
        var inodes: [UInt64] = []
        var partial = false
        if !isKernelThread, stat.state != "Z" {
            if let link = try? proc.link(base + "/exe") {
                if link.hasSuffix(" (deleted)") {
                    executable = String(link.dropLast(10))
                    deleted = true
                } else {
                    executable = link
                }
            } else {
                partial = true
            }
            directory = try? proc.link(base + "/cwd")
            if !sockets {
                // Not asked for.
            } else if let descriptors = try? proc.entries(base + "/fd") {
                for descriptor in descriptors {
                    // "socket:[5713595]"; a descriptor closed since the listing is simply gone.
                    guard let link = try? proc.link(base + "/fd/" + descriptor) else { partial = true; continue }
                    guard link.hasPrefix("socket:["), link.hasSuffix("]"), let inode = UInt64(link.dropFirst(8).dropLast()) else { continue }
                    inodes.append(inode)
                }
            } else {
                partial = true
            }
            if partial { unreadable += 1 }
        }

        let cpuTicks = stat.userTicks &+ stat.systemTicks
        var process = HostProcess(
            pid: pid, parent: stat.parent, uid: status.realUID, user: users.name(status.realUID), name: stat.name,
            commandLine: commandLine, commandLineTruncated: truncated, executable: executable, executableDeleted: deleted,
            currentDirectory: directory, state: String(stat.state), cpuPercent: clock.lifetimePercent(cpuTicks: cpuTicks, startTicks: stat.startTicks),
            residentBytes: stat.residentPages.multipliedReportingOverflow(by: clock.pageSize).partialValue, virtualBytes: stat.virtualBytes,
            startTime: clock.time(afterBootTicks: stat.startTicks), threads: status.threads, socketCount: inodes.count,
            isKernelThread: isKernelThread
        )
        process.socketInodes = inodes
        process.cpuTicks = cpuTicks
        process.startTicks = stat.startTicks
        return .process(process)
    }
}
