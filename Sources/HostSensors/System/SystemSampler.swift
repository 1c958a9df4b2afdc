import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Samples the whole host: CPU (from `/proc/stat` deltas), load, memory and swap, disk usage per
/// mounted filesystem, throughput per interface, uptime and the process count. Rates and usage
/// are over the interval since the previous sample.
public struct SystemSampler: Sendable {
    /// A filesystem's sizes in bytes: total, free for anyone (`f_bavail`), and free (`f_bfree`).
    public typealias FileSystemSizes = (total: UInt64, available: UInt64, free: UInt64)

    public let proc: ProcFileSystem
    public let hostname: String
    private let sizes: @Sendable (String) -> FileSystemSizes?
    private var previousCPU: [CPUTimes] = []
    private var previousInterfaces: [String: InterfaceCounters] = [:]
    private var previousUptime: Double?
    /// Lines and files that could not be read or parsed, over every sample.
    public private(set) var problems = 0

    /// - Parameter sizes: how a mount point's sizes are read (`statvfs` by default).
    public init(proc: ProcFileSystem, hostname: String = ProcessInfo.processInfo.hostName,
                sizes: @escaping @Sendable (String) -> FileSystemSizes? = SystemSampler.statvfsSizes) {
        self.proc = proc
        self.hostname = hostname
        self.sizes = sizes
    }

    /// Reads the host now.
    public mutating func sample(now: Int64 = Int64(Date().timeIntervalSince1970 * 1e6)) -> SystemSample {
        let cpu = (try? proc.text("stat")).map(CPUTimes.parse) ?? []
        if cpu.isEmpty { problems += 1 }
        var usage: [Double?] = cpu.indices.map { index in
            index < previousCPU.count && previousCPU[index].name == cpu[index].name ? cpu[index].usage(since: previousCPU[index]).map { $0 * 100 } : nil
        }
        if usage.isEmpty { usage = [nil] }
        previousCPU = cpu

        let memory = (try? proc.text("meminfo")).flatMap(MemoryInfo.init)
        if memory == nil { problems += 1 }
        let load = (try? proc.text("loadavg", maxBytes: 256)).flatMap(LoadAverage.init)
        let uptime = (try? proc.text("uptime", maxBytes: 256)).flatMap { $0.split(separator: " ").first.flatMap { Double($0) } } ?? 0

        var rejected = 0
        var disks: [SystemSample.Disk] = []
        var seen = Set<String>()
        for mount in MountEntry.parse((try? proc.text("mounts")) ?? "", rejected: &rejected) where mount.hasStorage {
            guard seen.insert(mount.mountPoint).inserted, let size = sizes(mount.mountPoint), size.total > 0 else { continue }
            disks.append(SystemSample.Disk(mountPoint: mount.mountPoint, device: mount.device, fileSystem: mount.fileSystem,
                                           totalBytes: size.total, usedBytes: size.total - min(size.free, size.total), availableBytes: size.available))
        }

        let elapsed = previousUptime.map { uptime - $0 } ?? 0
        var interfaces: [SystemSample.Interface] = []
        var counters: [String: InterfaceCounters] = [:]
        for interface in InterfaceCounters.parse((try? proc.text("net/dev")) ?? "", rejected: &rejected) {
            counters[interface.name] = interface
            var rx = 0.0, tx = 0.0
            if elapsed > 0, let before = previousInterfaces[interface.name] {
                // A counter that went back (an interface re-created) gives no rate, not a negative one.
                rx = interface.receivedBytes >= before.receivedBytes ? Double(interface.receivedBytes - before.receivedBytes) / elapsed : 0
                tx = interface.sentBytes >= before.sentBytes ? Double(interface.sentBytes - before.sentBytes) / elapsed : 0
            }
            interfaces.append(SystemSample.Interface(name: interface.name, receivedBytesPerSecond: rx, sentBytesPerSecond: tx,
                                                     receivedBytes: interface.receivedBytes, sentBytes: interface.sentBytes,
                                                     errors: interface.receiveErrors &+ interface.sendErrors))
        }
        previousInterfaces = counters
        previousUptime = uptime
        problems += rejected

        return SystemSample(
            time: now, hostname: hostname, cpuPercent: usage[0], corePercents: Array(usage.dropFirst()), load: load,
            memoryTotalBytes: memory?.total ?? 0, memoryAvailableBytes: memory?.available ?? 0,
            swapTotalBytes: memory?.swapTotal ?? 0, swapFreeBytes: memory?.swapFree ?? 0,
            disks: disks, interfaces: interfaces, uptimeSeconds: uptime, processCount: proc.processIDs().count
        )
    }

    /// A mount point's sizes from `statvfs`, nil when it cannot be read.
    @Sendable public static func statvfsSizes(_ path: String) -> FileSystemSizes? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let unit = UInt64(info.f_frsize > 0 ? info.f_frsize : info.f_bsize)
        func bytes(_ blocks: UInt64) -> UInt64 { blocks.multipliedReportingOverflow(by: unit).partialValue }
        return (bytes(UInt64(info.f_blocks)), bytes(UInt64(info.f_bavail)), bytes(UInt64(info.f_bfree)))
    }
}
