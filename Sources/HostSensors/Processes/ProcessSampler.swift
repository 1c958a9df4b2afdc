/// All processes, sampled again and again: each sample's CPU % is over the interval since the
/// one before (a process's first sample shows its lifetime average, as `ps` does).
public struct ProcessSampler: Sendable {
    /// One sample.
    public struct Snapshot: Sendable {
        public var processes: [HostProcess]
        /// Processes that ended between the listing and their read.
        public var vanished = 0
        /// Parts that could not be read (links of other users' processes without privilege).
        public var unreadable = 0
        /// Files that did not parse, with where (the first few).
        public var malformed = 0
        public var problems: [String] = []
        /// The clock read with the sample.
        public var clock: HostClock?
    }

    public let proc: ProcFileSystem
    public let users: UserDirectory
    private var previous: [ProcessIdentity: UInt64] = [:]
    private var previousUptime: Double?

    public init(proc: ProcFileSystem, users: UserDirectory) {
        self.proc = proc
        self.users = users
    }

    /// Reads every process now.
    public mutating func sample() -> Snapshot {
        guard let clock = HostClock(proc: proc) else {
            return Snapshot(processes: [], malformed: 1, problems: ["\(proc.root)/stat or uptime: missing or malformed"])
        }
        let reader = ProcessReader(proc: proc, users: users, clock: clock)
        var snapshot = Snapshot(processes: [], clock: clock)
        snapshot.processes.reserveCapacity(previous.count + 16)
        for pid in proc.processIDs() {
            switch reader.read(pid, unreadable: &snapshot.unreadable) {
            case .process(let process): snapshot.processes.append(process)
            case .vanished: snapshot.vanished += 1
            case .malformed(let problem):
                snapshot.malformed += 1
                if snapshot.problems.count < 10 { snapshot.problems.append(problem) }
            }
        }
        let elapsed = previousUptime.map { clock.uptime - $0 } ?? 0
        var next: [ProcessIdentity: UInt64] = [:]
        next.reserveCapacity(snapshot.processes.count)
        for index in snapshot.processes.indices {
            let process = snapshot.processes[index]
            next[process.identity] = process.cpuTicks
            if elapsed > 0, let before = previous[process.identity] {
                let ticks = process.cpuTicks >= before ? process.cpuTicks - before : 0
                snapshot.processes[index].cpuPercent = Double(ticks) / Double(clock.ticksPerSecond) / elapsed * 100
            }
        }
        previous = next
        previousUptime = clock.uptime
        return snapshot
    }
}
