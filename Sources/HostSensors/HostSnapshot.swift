/// Everything the host sensors read at one moment: the system, its processes, its sockets with
/// their owners, and what could not be read. `secmon host snapshot` prints it as JSON; the API
/// serves its parts.
public struct HostSnapshot: Sendable, Codable {
    /// What was lost while reading, counted rather than fatal.
    public struct Counts: Sendable, Codable, Equatable {
        /// Processes that ended between the listing and their read.
        public var vanishedProcesses = 0
        /// Links of processes that could not be read (another user's, without privilege).
        public var unreadable = 0
        /// `/proc` files that did not parse.
        public var malformed = 0
        /// Socket table lines that did not parse.
        public var rejectedSocketLines = 0
        /// Socket tables that are missing (IPv6 off).
        public var missingSocketTables: [String] = []
        /// TCP sockets in TIME_WAIT (closed, remembered by the kernel for a minute): counted, not listed.
        public var timeWaitSockets = 0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case unreadable, malformed
            case vanishedProcesses = "vanished_processes", rejectedSocketLines = "rejected_socket_lines"
            case missingSocketTables = "missing_socket_tables", timeWaitSockets = "time_wait_sockets"
        }
    }

    public var system: SystemSample
    public var processes: [HostProcess]
    public var sockets: [HostSocket]
    public var counts: Counts
    /// Up to ten of the problems behind `malformed`, each naming its file.
    public var problems: [String]

    public init(system: SystemSample, processes: [HostProcess], sockets: [HostSocket], counts: Counts, problems: [String]) {
        self.system = system
        self.processes = processes
        self.sockets = sockets
        self.counts = counts
        self.problems = problems
    }
}

/// Takes ``HostSnapshot``s: one system sampler, one process sampler and the socket reader over
/// the same `/proc`. Keep one and call ``take()`` repeatedly for rates over the interval.
public struct HostSnapshotter: Sendable {
    public private(set) var system: SystemSampler
    public private(set) var processes: ProcessSampler
    public let sockets: SocketReader

    public init(proc: ProcFileSystem = ProcFileSystem(), users: UserDirectory = UserDirectory(), system: SystemSampler? = nil) {
        self.system = system ?? SystemSampler(proc: proc)
        self.processes = ProcessSampler(proc: proc, users: users)
        self.sockets = SocketReader(proc: proc)
    }

    /// Reads the system alone (processes and sockets are not read).
    public mutating func takeSystem() -> SystemSample { system.sample() }

    /// Reads everything now.
    public mutating func take() -> HostSnapshot {
        let sample = system.sample()
        let tables = sockets.readTables()
        let processSample = processes.sample()
        let socketResult = sockets.resolve(tables, owners: processSample.processes)
        var counts = HostSnapshot.Counts()
        counts.vanishedProcesses = processSample.vanished
        counts.unreadable = processSample.unreadable
        counts.malformed = processSample.malformed
        counts.rejectedSocketLines = socketResult.rejected
        counts.missingSocketTables = socketResult.missingTables
        counts.timeWaitSockets = socketResult.timeWait
        var system = sample
        system.processCount = processSample.processes.count
        return HostSnapshot(system: system, processes: processSample.processes, sockets: socketResult.sockets, counts: counts,
                            problems: processSample.problems)
    }
}
