/// The host at one moment: what the system monitor charts and the metric store keeps.
public struct SystemSample: Sendable, Codable, Equatable {
    /// One filesystem's space.
    public struct Disk: Sendable, Codable, Equatable {
        public var mountPoint: String
        public var device: String
        public var fileSystem: String
        public var totalBytes: UInt64
        public var usedBytes: UInt64
        /// What an unprivileged user may still write (less than free: the reserved blocks).
        public var availableBytes: UInt64

        /// Used share as `df` computes it: used over used plus available, in percent.
        public var usedPercent: Double {
            let base = Double(usedBytes) + Double(availableBytes)
            return base > 0 ? Double(usedBytes) / base * 100 : 0
        }

        enum CodingKeys: String, CodingKey {
            case device
            case mountPoint = "mount_point", fileSystem = "file_system", totalBytes = "total_bytes"
            case usedBytes = "used_bytes", availableBytes = "available_bytes"
        }
    }

    /// One interface's throughput over the last interval (zero for a first sample) and totals.
    public struct Interface: Sendable, Codable, Equatable {
        public var name: String
        public var receivedBytesPerSecond: Double
        public var sentBytesPerSecond: Double
        public var receivedBytes: UInt64
        public var sentBytes: UInt64
        public var errors: UInt64

        enum CodingKeys: String, CodingKey {
            case name, errors
            case receivedBytesPerSecond = "received_bytes_per_second", sentBytesPerSecond = "sent_bytes_per_second"
            case receivedBytes = "received_bytes", sentBytes = "sent_bytes"
        }
    }

    /// Microseconds since the epoch.
    public var time: Int64
    public var hostname: String
    /// Busy share of all cores in percent over the last interval (nil for a first sample).
    public var cpuPercent: Double?
    /// The same per core, in core order.
    public var corePercents: [Double?]
    public var load: LoadAverage?
    public var memoryTotalBytes: UInt64
    public var memoryAvailableBytes: UInt64
    public var swapTotalBytes: UInt64
    public var swapFreeBytes: UInt64
    public var disks: [Disk]
    public var interfaces: [Interface]
    public var uptimeSeconds: Double
    public var processCount: Int

    public init(time: Int64, hostname: String, cpuPercent: Double?, corePercents: [Double?], load: LoadAverage?, memoryTotalBytes: UInt64,
                memoryAvailableBytes: UInt64, swapTotalBytes: UInt64, swapFreeBytes: UInt64, disks: [Disk], interfaces: [Interface],
                uptimeSeconds: Double, processCount: Int) {
        self.time = time
        self.hostname = hostname
        self.cpuPercent = cpuPercent
        self.corePercents = corePercents
        self.load = load
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryAvailableBytes = memoryAvailableBytes
        self.swapTotalBytes = swapTotalBytes
        self.swapFreeBytes = swapFreeBytes
        self.disks = disks
        self.interfaces = interfaces
        self.uptimeSeconds = uptimeSeconds
        self.processCount = processCount
    }

    /// Memory in use in percent (total less available).
    public var memoryPercent: Double {
        memoryTotalBytes > 0 ? Double(memoryTotalBytes - min(memoryAvailableBytes, memoryTotalBytes)) / Double(memoryTotalBytes) * 100 : 0
    }

    /// Swap in use in percent.
    public var swapPercent: Double {
        swapTotalBytes > 0 ? Double(swapTotalBytes - min(swapFreeBytes, swapTotalBytes)) / Double(swapTotalBytes) * 100 : 0
    }

    enum CodingKeys: String, CodingKey {
        case time, hostname, load, disks, interfaces
        case cpuPercent = "cpu_percent", corePercents = "core_percents"
        case memoryTotalBytes = "memory_total_bytes", memoryAvailableBytes = "memory_available_bytes"
        case swapTotalBytes = "swap_total_bytes", swapFreeBytes = "swap_free_bytes"
        case uptimeSeconds = "uptime_seconds", processCount = "process_count"
    }
}
