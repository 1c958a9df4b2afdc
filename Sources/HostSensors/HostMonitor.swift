import EventPipeline
import Foundation
import SecurityModel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host sensors as one source of the pipeline: process starts as they happen (the process
/// connector, or polling), and every few seconds a full reading of the system, processes and
/// sockets, from which new connections and listeners become events and the system sample a
/// metrics event. The latest reading is kept for the console and the API.
public final class HostMonitor: EventSource, Sendable {
    /// How often each sensor reads, and from where.
    public struct Configuration: Sendable {
        /// System metrics (CPU, memory, disks, interfaces).
        public var systemInterval: Duration = .seconds(5)
        /// Processes and sockets (new connections and listeners).
        public var networkInterval: Duration = .seconds(5)
        /// Polling for new processes, when the process connector cannot be used.
        public var processPollInterval: Duration = .seconds(1)
        /// Use the process connector where it can be opened.
        public var useConnector = true
        /// Report connections between two loopback addresses. Off by default: a local proxy, a
        /// local database and every health check make one per request, so they would drown the
        /// rest (as Sysmon configurations leave them out). Listeners on loopback are reported.
        public var includeLoopback = false
        public var proc = ProcFileSystem()
        public var passwdPath = "/etc/passwd"
        public var hostname = ProcessInfo.processInfo.hostName

        public init() {}
    }

    /// Counters for health reports and the console.
    public struct Statistics: Sendable, Codable, Equatable {
        public var processes = ProcessWatcher.Statistics()
        /// Readings taken, events produced (and refused by a full intake).
        public var readings = 0
        public var events = 0
        public var refused = 0
        /// CPU time the readings used, in seconds, and the time they covered: the sampler's share
        /// of one core is their ratio.
        public var cpuSeconds = 0.0
        public var runningSeconds = 0.0
        /// Where the latest reading could not read or parse something.
        public var lastCounts = HostSnapshot.Counts()

        /// The sampler's CPU use in percent of one core.
        public var cpuSharePercent: Double { runningSeconds > 0 ? cpuSeconds / runningSeconds * 100 : 0 }

        enum CodingKeys: String, CodingKey {
            case processes, readings, events, refused
            case cpuSeconds = "cpu_seconds", runningSeconds = "running_seconds", lastCounts = "last_counts"
        }
    }

    public let name = "host"
    public let isOrdered = true
    public let configuration: Configuration
    private let onEvent: @Sendable (SecurityEvent) -> Void
    private let onSample: @Sendable (SystemSample) -> Void
    private let state = Mutex<(snapshot: HostSnapshot?, statistics: Statistics)>((nil, Statistics()))
    private let watcherStats = Mutex<(@Sendable () -> ProcessWatcher.Statistics)?>(nil)

    /// - Parameters:
    ///   - onEvent: called with every event after it is handed to the intake (the host log, storage).
    ///   - onSample: called with every system sample (the metric history).
    public init(configuration: Configuration = Configuration(), onEvent: @escaping @Sendable (SecurityEvent) -> Void = { _ in },
                onSample: @escaping @Sendable (SystemSample) -> Void = { _ in }) {
        self.configuration = configuration
        self.onEvent = onEvent
        self.onSample = onSample
    }

    /// The latest full reading (nil before the first).
    public var latest: HostSnapshot? { state.withLock { $0.snapshot } }

    public var statistics: Statistics {
        var statistics = state.withLock { $0.statistics }
        if let current = watcherStats.withLock({ $0 }) { statistics.processes = current() }
        return statistics
    }

    public func run(into intake: EventIntake) async throws {
        let hostname = configuration.hostname
        // One reading of the passwd file serves the watcher and the readings.
        let users = UserDirectory(path: configuration.passwdPath)
        let watcher = ProcessWatcher(proc: configuration.proc, users: users,
                                     pollInterval: configuration.processPollInterval, useConnector: configuration.useConnector) { [self] start in
            var event = HostEvents.processCreation(start, hostname: hostname, time: Timestamp.now())
            submit(&event, into: intake)
        }
        watcher.start()
        watcherStats.withLock { $0 = { watcher.statistics } }
        do {
            try await sample(into: intake, users: users)
        } catch {
            await watcher.stop()
            throw error
        }
        await watcher.stop()
    }

    private func sample(into intake: EventIntake, users: UserDirectory) async throws {
        var snapshotter = HostSnapshotter(proc: configuration.proc, users: users,
                                          system: SystemSampler(proc: configuration.proc, hostname: configuration.hostname))
        var tracker = ConnectionTracker()
        let clock = ContinuousClock()
        let started = clock.now
        var nextSystem = clock.now
        var nextNetwork = clock.now
        var latest: HostSnapshot?
        let ownPID = getpid()
        while !Task.isCancelled {
            let now = clock.now
            if now >= nextSystem || now >= nextNetwork {
                let cpuBefore = Self.threadCPUSeconds()
                // One reading serves both: the system part is cheap, and processes and sockets
                // are read together so that sockets get their owners.
                let wantsNetwork = now >= nextNetwork || latest == nil
                var snapshot: HostSnapshot
                if wantsNetwork {
                    snapshot = snapshotter.take()
                } else {
                    snapshot = latest!
                    snapshot.system = snapshotter.takeSystem()
                    snapshot.system.processCount = latest!.processes.count
                }
                let cpu = Self.threadCPUSeconds() - cpuBefore
                var events: [SecurityEvent] = []
                let stamp = Timestamp.now()
                if wantsNetwork {
                    let owners = Dictionary(snapshot.processes.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
                    let changes = tracker.update(snapshot.sockets)
                    for (socket, initiated) in changes.connections where configuration.includeLoopback || !Self.isLoopback(socket) {
                        events.append(HostEvents.connection(socket, owner: socket.pid.flatMap { owners[$0] }, initiated: initiated,
                                                            hostname: configuration.hostname, time: stamp))
                    }
                    // SecMon's own listeners (its web server starting after the first reading) are not news.
                    for socket in changes.listeners where socket.proto.hasPrefix("tcp") && socket.pid != ownPID {
                        events.append(HostEvents.listening(socket, owner: socket.pid.flatMap { owners[$0] }, hostname: configuration.hostname, time: stamp))
                    }
                    // Counted from the reading's end: a slow reading is never followed by another at once.
                    nextNetwork = clock.now + configuration.networkInterval
                }
                if now >= nextSystem {
                    events.append(HostEvents.metrics(snapshot.system, time: stamp))
                    onSample(snapshot.system)
                    nextSystem = clock.now + configuration.systemInterval
                }
                for index in events.indices { submit(&events[index], into: intake) }
                latest = snapshot
                let elapsed = clock.now - started
                state.withLock { state in
                    state.snapshot = snapshot
                    state.statistics.readings += 1
                    state.statistics.cpuSeconds += cpu
                    state.statistics.runningSeconds = ProcessWatcher.seconds(elapsed)
                    state.statistics.lastCounts = snapshot.counts
                }
            }
            let wake = min(nextSystem, nextNetwork)
            try await Task.sleep(until: wake, clock: clock)
        }
    }

    private func submit(_ event: inout SecurityEvent, into intake: EventIntake) {
        let accepted = intake.submitStamped(&event)
        state.withLock { $0.statistics.events += 1; if !accepted { $0.statistics.refused += 1 } }
        onEvent(event)
    }

    /// Whether both ends of a connection are loopback addresses (`127.0.0.0/8`, `::1`, or IPv4
    /// loopback mapped into IPv6).
    static func isLoopback(_ socket: HostSocket) -> Bool {
        func loopback(_ address: String) -> Bool {
            address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.") || address.hasPrefix("::ffff:7f")
        }
        return loopback(socket.localAddress) && loopback(socket.remoteAddress)
    }

    /// CPU time this thread has used (a reading runs without suspending, on one thread).
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
