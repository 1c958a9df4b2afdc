import ArgumentParser
import Foundation
import HostSensors

/// `secmon host`: the host sensors from the command line, without the server.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Read this host's system, processes and network connections.",
        subcommands: [HostSnapshotCommand.self]
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(snapshot)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }
}
