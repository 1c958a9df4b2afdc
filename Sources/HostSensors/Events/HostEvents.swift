import SecurityModel

/// Host activity as events under Sigma's field names, so that the community's Linux rules run on
/// them unmodified: `process_creation` (`Image`, `CommandLine`, `ParentImage`, `User`, ...) and
/// `network_connection` (`Image`, `DestinationIp`, `DestinationPort`, `Initiated`, ...), both
/// `product: linux`. Two streams are SecMon's own, for what Sigma has no category for: a new
/// listening socket (`network_listen`) and a system sample (`host_metrics`).
public enum HostEvents {
    public static let processCreation = LogSource.processCreation
    public static let networkConnection = LogSource.networkConnection
    public static let networkListen = LogSource.networkListen
    public static let metrics = LogSource.hostMetrics

    /// A process start. `Image` is the executable's path (the name in brackets when it cannot be
    /// read); `ImageDeleted` says the file was deleted after the process started it.
    public static func processCreation(_ start: ProcessWatcher.Start, hostname: String, time: Timestamp) -> SecurityEvent {
        let process = start.process
        var fields: [SecurityEvent.Field] = [
            .init("Image", .string(image(process))),
            .init("CommandLine", .string(process.commandLine)),
            .init("ProcessId", .int(Int64(process.pid))),
            .init("User", .string(process.user)),
            .init("ParentProcessId", .int(Int64(process.parent))),
        ]
        if let directory = process.currentDirectory { fields.append(.init("CurrentDirectory", .string(directory))) }
        if let parent = start.parent {
            fields.append(.init("ParentImage", .string(image(parent))))
            fields.append(.init("ParentCommandLine", .string(parent.commandLine)))
            fields.append(.init("ParentUser", .string(parent.user)))
        }
        fields.append(.init("ImageDeleted", .string(process.executableDeleted ? "true" : "false")))
        if process.commandLineTruncated { fields.append(.init("CommandLineTruncated", .string("true"))) }
        fields.append(.init("Computer", .string(hostname)))
        var entities = [Entity(.host, hostname), Entity(.process, String(process.pid)), Entity(.user, process.user)]
        if let executable = process.executable { entities.append(Entity(.file, executable)) }
        return SecurityEvent(time: time, id: EventID.make(at: time), source: processCreation, fields: fields, entities: entities)
    }

    /// A connection seen in the socket tables. `initiated` is true when this host opened it (its
    /// local port is not one it listens on).
    public static func connection(_ socket: HostSocket, owner: HostProcess?, initiated: Bool, hostname: String, time: Timestamp) -> SecurityEvent {
        var fields: [SecurityEvent.Field] = []
        if let owner {
            fields.append(.init("Image", .string(image(owner))))
            fields.append(.init("ProcessId", .int(Int64(owner.pid))))
            fields.append(.init("User", .string(owner.user)))
        }
        fields += [
            .init("Protocol", .string(socket.proto.hasPrefix("tcp") ? "tcp" : "udp")),
            .init("Initiated", .string(initiated ? "true" : "false")),
            .init("SourceIp", .string(socket.localAddress)),
            .init("SourcePort", .int(Int64(socket.localPort))),
            .init("DestinationIp", .string(socket.remoteAddress)),
            .init("DestinationPort", .int(Int64(socket.remotePort))),
            .init("DestinationIsIpv6", .string(socket.proto.hasSuffix("6") && !socket.remoteAddress.contains(".") ? "true" : "false")),
            .init("Computer", .string(hostname)),
        ]
        var entities = [Entity(.host, hostname), Entity(.ip, socket.remoteAddress)]
        if let owner { entities.append(Entity(.process, String(owner.pid))) }
        return SecurityEvent(time: time, id: EventID.make(at: time), source: networkConnection, fields: fields, entities: entities)
    }

    /// A socket that started listening (TCP) after the sensor's first look.
    public static func listening(_ socket: HostSocket, owner: HostProcess?, hostname: String, time: Timestamp) -> SecurityEvent {
        var fields: [SecurityEvent.Field] = []
        if let owner {
            fields.append(.init("Image", .string(image(owner))))
            fields.append(.init("ProcessId", .int(Int64(owner.pid))))
            fields.append(.init("User", .string(owner.user)))
        }
        fields += [
            .init("Protocol", .string(socket.proto.hasPrefix("tcp") ? "tcp" : "udp")),
            .init("SourceIp", .string(socket.localAddress)),
            .init("SourcePort", .int(Int64(socket.localPort))),
            .init("Computer", .string(hostname)),
        ]
        var entities = [Entity(.host, hostname)]
        if let owner { entities.append(Entity(.process, String(owner.pid))) }
        return SecurityEvent(time: time, id: EventID.make(at: time), source: networkListen, fields: fields, entities: entities)
    }

    /// A system sample: CPU, memory, swap and the fullest disk, in percent, and the load.
    public static func metrics(_ sample: SystemSample, time: Timestamp) -> SecurityEvent {
        var fields: [SecurityEvent.Field] = []
        if let cpu = sample.cpuPercent { fields.append(.init("CpuPercent", .double(rounded(cpu)))) }
        fields.append(.init("MemoryPercent", .double(rounded(sample.memoryPercent))))
        fields.append(.init("SwapPercent", .double(rounded(sample.swapPercent))))
        if let fullest = sample.disks.max(by: { $0.usedPercent < $1.usedPercent }) {
            fields.append(.init("DiskPercent", .double(rounded(fullest.usedPercent))))
            fields.append(.init("DiskMountPoint", .string(fullest.mountPoint)))
        }
        if let load = sample.load { fields.append(.init("Load1", .double(load.one))) }
        fields.append(.init("Computer", .string(sample.hostname)))
        return SecurityEvent(time: time, id: EventID.make(at: time), source: metrics, fields: fields, entities: [Entity(.host, sample.hostname)])
    }

    static func image(_ process: HostProcess) -> String { process.executable ?? "[\(process.name)]" }

    static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
