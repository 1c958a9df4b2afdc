import ArgumentParser
import Foundation
import EventPipeline
import HostSensors
import LogFormats

/// `secmon host`: the host sensors from the command line, without the server.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Read this host's system, processes and network connections.",
        subcommands: [HostSnapshotCommand.self, HostWatchCommand.self]
    )
}

/// `secmon host snapshot`: one reading of the host as JSON.
struct HostSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print the system, every process and every socket (with its owner) as JSON.",
        discussion: """
            Reads /proc (or --proc, a copy of it). Without --interval, CPU use per process is the \
            average over its life (as 'ps' shows it) and the system's is absent; with it, both are \
            measured over that many seconds. Run as root to see every process's executable and \
            sockets; otherwise other users' are left out and counted as unreadable.
            """
    )

    @Option(help: "The /proc directory to read (a copy for tests).")
    var proc = "/proc"
    @Option(help: "The passwd file that names users.")
    var passwd = "/etc/passwd"
    @Option(help: "Seconds between two readings, for CPU use over an interval (0: one reading).")
    var interval = 0.0
    @Flag(help: "Indented, human-readable JSON.")
    var pretty = false

    func validate() throws {
        guard interval.isFinite, interval >= 0, interval <= 60 else {
            throw ValidationError("--interval must be between 0 and 60 seconds (got \(interval))")
        }
    }

    func run() async throws {
        let root = ProcFileSystem(root: proc)
        guard FileManager.default.fileExists(atPath: proc + "/stat") else {
            throw CommandLineError("\(proc) is not a proc filesystem (no \(proc)/stat): pass --proc with a directory that holds one")
        }
        var snapshotter = HostSnapshotter(proc: root, users: UserDirectory(path: passwd))
        if interval > 0 {
            _ = snapshotter.take()
            try await Task.sleep(for: .seconds(interval))
        }
        let snapshot = snapshotter.take()
        var data: Data
        if pretty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            data = try encoder.encode(snapshot)
        } else {
            data = Data(try HostSnapshotJSON.encode(snapshot))
        }
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }
}

/// `secmon host watch`: the host sensors' events as they happen, one JSON line each (the lines
/// `logs/host.log` gets), without the server; with `--seconds`, a summary of what the sensors cost.
struct HostWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print this host's events (process starts, new connections and listeners, samples) as they happen.",
        discussion: """
            Runs the host sensors as 'secmon serve' does and prints each event as a JSON line (the \
            format of logs/host.log, which 'secmon analyze --format host' reads). Stops on Ctrl-C, or \
            after --seconds, then prints on standard error how many events there were and the CPU the \
            sensors used (the share of one core, counted for this whole process).
            """
    )

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var seconds: Double?
    @Option(help: "Seconds between readings of the system, processes and sockets.")
    var interval = 5.0
    @Flag(help: "Poll /proc for new processes even where the process connector works.")
    var poll = false
    @Flag(help: "Report connections between two loopback addresses too.")
    var loopback = false
    @Flag(help: "Print no events, only the summary (for measuring).")
    var quiet = false

    func validate() throws {
        guard interval.isFinite, interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        if let seconds { guard seconds.isFinite, seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be between 0 and 86400") } }
    }

    func run() async throws {
        var configuration = HostMonitor.Configuration()
        configuration.systemInterval = .milliseconds(Int64(interval * 1000))
        configuration.networkInterval = .milliseconds(Int64(interval * 1000))
        configuration.useConnector = !poll
        configuration.includeLoopback = loopback
        let encoder = HostEventEncoder()
        let quiet = self.quiet
        let monitor = HostMonitor(configuration: configuration) { event in
            guard !quiet else { return }
            FileHandle.standardOutput.write(Data(encoder.encode(event)))
        }
        let mode = ProcessWatcher.availableMode(useConnector: !poll)
        FileHandle.standardError.write(Data("secmon host watch: process starts through \(mode.mode == .connector ? "the process connector" : "polling /proc (\(mode.reason ?? ""))"), readings every \(interval) s\n".utf8))
        // Nothing runs detection here: the intake takes nothing (its refusals are not losses).
        let intake = EventIntake(budgetBytes: 0)
        let started = ContinuousClock.now
        let cpuBefore = Self.processCPUSeconds()
        let task = Task { try await monitor.run(into: intake) }
        if let seconds {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        } else {
            // Until interrupted: SIGINT ends the process; the events are already printed.
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        task.cancel()
        _ = try? await task.value
        let elapsed = ContinuousClock.now - started
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = Self.processCPUSeconds() - cpuBefore
        let statistics = monitor.statistics
        FileHandle.standardError.write(Data(String(format: "secmon host watch: %.1f s, %d readings, %d events (%d process starts, %d missed); CPU %.3f s = %.2f %% of one core\n",
                                                   wall, statistics.readings, statistics.events, statistics.processes.starts, statistics.processes.missed,
                                                   cpu, cpu / max(wall, 0.001) * 100).utf8))
    }

    /// CPU time (user and system) this process has used, in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
