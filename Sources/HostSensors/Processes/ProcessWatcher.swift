import Foundation
import Synchronization

/// Sees processes start: through the kernel's process connector when it can be opened (every
/// exec, as it happens), otherwise by polling `/proc` for new process ids.
///
/// Polling misses what the connector sees: a process that starts and ends between two polls,
/// and a process that runs a new program without forking (`exec` in a shell script). The
/// connector misses nothing but processes that end before their `/proc` entry is read (their
/// pid is known, their command line is not); both are counted.
public final class ProcessWatcher: Sendable {
    /// How starts are seen.
    public enum Mode: String, Sendable, Codable {
        case connector = "process connector"
        case polling = "polling"
    }

    /// One process start: the process as read just after it started, and its parent.
    public struct Start: Sendable {
        public var process: HostProcess
        public var parent: HostProcess?
    }

    /// Counters, for health reports and the console.
    public struct Statistics: Sendable, Equatable, Codable {
        /// Starts reported.
        public var starts = 0
        /// Processes that ended before they could be read.
        public var missed = 0
        /// Times the kernel dropped connector events (a burst read too slowly).
        public var overruns = 0
        public var mode: Mode?
        /// Why the connector is not used, when it is not.
        public var fallbackReason: String?
    }

    private let proc: ProcFileSystem
    private let users: UserDirectory
    private let pollInterval: Duration
    private let useConnector: Bool
    private let onStart: @Sendable (Start) -> Void
    private let stopping = Atomic<Bool>(false)
    private let counters = Mutex(Statistics())
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let done = Atomic<Bool>(false)

    /// - Parameters:
    ///   - pollInterval: how often `/proc` is polled when the connector cannot be used.
    ///   - useConnector: false to poll even where the connector works (tests of the fallback).
    public init(proc: ProcFileSystem = ProcFileSystem(), users: UserDirectory = UserDirectory(), pollInterval: Duration = .seconds(1),
                useConnector: Bool = true, onStart: @escaping @Sendable (Start) -> Void) {
        self.proc = proc
        self.users = users
        self.pollInterval = pollInterval
        self.useConnector = useConnector
        self.onStart = onStart
    }

    public var statistics: Statistics { counters.withLock { $0 } }

    /// How a watcher would see starts here, and why not through the connector (for start-up messages).
    public static func availableMode(useConnector: Bool = true) -> (mode: Mode, reason: String?) {
        guard useConnector else { return (.polling, "polling was asked for") }
        do {
            _ = try ProcessConnector.open()
            return (.connector, nil)
        } catch {
            return (.polling, error.description)
        }
    }

    /// Starts watching on a thread of its own and returns how (the connector, or polling and why).
    @discardableResult
    public func start() -> Mode {
        var connector: ProcessConnector?
        var reason: String?
        if useConnector {
            do { connector = try ProcessConnector.open() } catch { reason = error.description }
        } else {
            reason = "polling was asked for"
        }
        let mode: Mode = connector == nil ? .polling : .connector
        counters.withLock { $0.mode = mode; $0.fallbackReason = reason }
        let opened = connector
        // What runs now is known before start() returns: a process started after it is new.
        let running = connector == nil ? Set(proc.processIDs()) : []
        let thread = Thread { [self] in
            if let connector = opened { watch(connector) } else { poll(known: running) }
            done.store(true, ordering: .sequentiallyConsistent)
            finished.withLock { $0.take() }?.resume()
        }
        thread.name = "secmon-process-watcher"
        thread.start()
        return mode
    }

    /// Stops watching and waits for the thread to end (within one poll interval or 250 ms).
    public func stop() async {
        stopping.store(true, ordering: .sequentiallyConsistent)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = finished.withLock { waiting -> Bool in
                if done.load(ordering: .sequentiallyConsistent) { return true }
                waiting = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func watch(_ connector: ProcessConnector) {
        var reader: ProcessReader?
        while !stopping.load(ordering: .relaxed) {
            let messages: [ProcessConnectorMessage]
            do { messages = try connector.next(timeoutMilliseconds: 250) } catch { break }
            for message in messages {
                guard case .exec(let pid) = message else { continue }
                if reader == nil { reader = HostClock(proc: proc).map { ProcessReader(proc: proc, users: users, clock: $0) } }
                guard let reader else { continue }
                report(pid, reader: reader)
            }
            let overruns = connector.overruns
            counters.withLock { $0.overruns = overruns }
        }
    }

    private func poll(known running: Set<Int32>) {
        var known = running
        while !stopping.load(ordering: .relaxed) {
            // Sleep in short steps so that stop() is answered quickly.
            let deadline = ContinuousClock.now + pollInterval
            while ContinuousClock.now < deadline, !stopping.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: min(0.25, max(0.001, Self.seconds(deadline - ContinuousClock.now))))
            }
            if stopping.load(ordering: .relaxed) { break }
            let now = proc.processIDs()
            guard let clock = HostClock(proc: proc) else { continue }
            let reader = ProcessReader(proc: proc, users: users, clock: clock)
            for pid in now where !known.contains(pid) { report(pid, reader: reader) }
            known = Set(now)
        }
    }

    private func report(_ pid: Int32, reader: ProcessReader) {
        var unreadable = 0
        let process: HostProcess
        // A process just started holds no sockets worth listing yet: its descriptors are not read.
        switch reader.read(pid, sockets: false, unreadable: &unreadable) {
        case .process(let found) where !found.isKernelThread: process = found
        case .vanished: counters.withLock { $0.missed += 1 }; return
        default: return
        }
        var parent: HostProcess?
        if case .process(let found) = reader.read(process.parent, sockets: false, unreadable: &unreadable) { parent = found }
        counters.withLock { $0.starts += 1 }
        onStart(Start(process: process, parent: parent))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
