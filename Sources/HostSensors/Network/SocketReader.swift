/// Reads the four socket tables and names each socket's owner from the processes' socket inodes.
/// A table may change while it is read: lines that do not parse are counted, never fatal.
public struct SocketReader: Sendable {
    /// One reading.
    public struct Result: Sendable {
        public var sockets: [HostSocket]
        /// Lines that did not parse.
        public var rejected = 0
        /// Tables that could not be read (IPv6 disabled, a fixture without one).
        public var missingTables: [String] = []
        /// TCP sockets in TIME_WAIT, counted and not listed.
        public var timeWait = 0
    }

    public let proc: ProcFileSystem
    /// Whether to ask the kernel's socket diagnostics first (for the live `/proc` only: a
    /// fixture tree has only its tables).
    public let useDiagnostics: Bool

    /// `useDiagnostics` defaults to whether `proc` is the live `/proc`.
    public init(proc: ProcFileSystem, useDiagnostics: Bool? = nil) {
        self.proc = proc
        self.useDiagnostics = useDiagnostics ?? (proc.root == "/proc")
    }

    /// The sockets now, their owners among `processes`.
    public func read(owners processes: [HostProcess]) -> Result {
        resolve(readTables(), owners: processes)
    }

    /// The tables' entries, owners not yet known. Read them before the processes: a socket
    /// opened in between is then in a process's descriptors when those are read, and gets its
    /// owner (read the other way round, it would be listed without one).
    ///
    /// From the kernel's socket diagnostics when ``useDiagnostics`` (``SocketDiagnostics``), else,
    /// or when they fail, from the `/proc/net` tables.
    public func readTables() -> (entries: [(entry: SocketEntry, table: String)], rejected: Int, missingTables: [String], timeWait: Int) {
        if useDiagnostics, let dump = try? SocketDiagnostics.read() {
            return (dump.entries, dump.rejected, [], dump.timeWait)
        }
        return readProcTables()
    }

    /// The tables' entries from `/proc/net/{tcp,tcp6,udp,udp6}`.
    public func readProcTables() -> (entries: [(entry: SocketEntry, table: String)], rejected: Int, missingTables: [String], timeWait: Int) {
        var entries: [(entry: SocketEntry, table: String)] = []
        var rejected = 0
        var timeWait = 0
        var missing: [String] = []
        for (table, transport) in [("tcp", SocketEntry.Transport.tcp), ("tcp6", .tcp), ("udp", .udp), ("udp6", .udp)] {
            // Socket tables can be large on a busy server: up to 64 MiB each.
            guard let text = try? proc.text("net/" + table, maxBytes: 64 << 20) else {
                missing.append(table)
                continue
            }
            for entry in SocketEntry.parseTable(text, transport: transport, skippingTimeWait: true, skipped: &timeWait, rejected: &rejected) {
                entries.append((entry, table))
            }
        }
        return (entries, rejected, missing, timeWait)
    }

    /// The entries with their owners among `processes` (through the processes' socket inodes).
    public func resolve(_ tables: (entries: [(entry: SocketEntry, table: String)], rejected: Int, missingTables: [String], timeWait: Int),
                        owners processes: [HostProcess]) -> Result {
        var owners: [UInt64: (pid: Int32, name: String)] = [:]
        for process in processes {
            for inode in process.socketInodes where owners[inode] == nil { owners[inode] = (process.pid, process.name) }
        }
        var result = Result(sockets: [], rejected: tables.rejected, missingTables: tables.missingTables, timeWait: tables.timeWait)
        result.sockets.reserveCapacity(tables.entries.count)
        for (entry, table) in tables.entries {
            result.sockets.append(HostSocket(entry, proto: table, owner: entry.inode == 0 ? nil : owners[entry.inode]))
        }
        return result
    }
}
