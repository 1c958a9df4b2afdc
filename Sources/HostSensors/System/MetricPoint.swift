/// The host's metrics over one interval (a minute, or a longer stretch once downsampled): what the
/// system monitor charts and the metric history stores. Averages, with the CPU's peak kept.
public struct MetricPoint: Sendable, Codable, Equatable {
    /// Start of the interval, microseconds since the epoch, and its length in seconds.
    public var time: Int64
    public var seconds: Int
    /// Samples merged into it.
    public var samples: Int
    public var cpuPercent: Double
    public var cpuPeakPercent: Double
    public var memoryPercent: Double
    public var swapPercent: Double
    /// The fullest filesystem's use.
    public var diskPercent: Double
    public var load1: Double
    /// Bytes per second over every interface but loopback.
    public var receivedBytesPerSecond: Double
    public var sentBytesPerSecond: Double
    public var processes: Double

    enum CodingKeys: String, CodingKey {
        case time, seconds, samples, processes, load1
        case cpuPercent = "cpu_percent", cpuPeakPercent = "cpu_peak_percent", memoryPercent = "memory_percent", swapPercent = "swap_percent"
        case diskPercent = "disk_percent", receivedBytesPerSecond = "received_bytes_per_second", sentBytesPerSecond = "sent_bytes_per_second"
    }

    public init(time: Int64, seconds: Int, samples: Int, cpuPercent: Double, cpuPeakPercent: Double, memoryPercent: Double, swapPercent: Double,
                diskPercent: Double, load1: Double, receivedBytesPerSecond: Double, sentBytesPerSecond: Double, processes: Double) {
        self.time = time
        self.seconds = seconds
        self.samples = samples
        self.cpuPercent = cpuPercent
        self.cpuPeakPercent = cpuPeakPercent
        self.memoryPercent = memoryPercent
        self.swapPercent = swapPercent
        self.diskPercent = diskPercent
        self.load1 = load1
        self.receivedBytesPerSecond = receivedBytesPerSecond
        self.sentBytesPerSecond = sentBytesPerSecond
        self.processes = processes
    }

    /// One sample as a point of its own (merged with others of its minute by ``MetricAggregator``).
    public init(_ sample: SystemSample) {
        let external = sample.interfaces.filter { $0.name != "lo" }
        let cpu = sample.cpuPercent ?? 0
        self.init(time: sample.time, seconds: 0, samples: 1, cpuPercent: cpu, cpuPeakPercent: cpu, memoryPercent: sample.memoryPercent,
                  swapPercent: sample.swapPercent, diskPercent: sample.disks.map(\.usedPercent).max() ?? 0, load1: sample.load?.one ?? 0,
                  receivedBytesPerSecond: external.reduce(0) { $0 + $1.receivedBytesPerSecond },
                  sentBytesPerSecond: external.reduce(0) { $0 + $1.sentBytesPerSecond }, processes: Double(sample.processCount))
    }

    /// `points` as one point starting at `time` and lasting `seconds`: averages weighted by their
    /// samples, the highest peak. Nil for no points.
    public static func merge(_ points: [MetricPoint], time: Int64, seconds: Int) -> MetricPoint? {
        let total = points.reduce(0) { $0 + max(1, $1.samples) }
        guard total > 0 else { return nil }
        func average(_ value: (MetricPoint) -> Double) -> Double {
            points.reduce(0.0) { $0 + value($1) * Double(max(1, $1.samples)) } / Double(total)
        }
        return MetricPoint(
            time: time, seconds: seconds, samples: total, cpuPercent: average(\.cpuPercent),
            cpuPeakPercent: points.map(\.cpuPeakPercent).max() ?? 0, memoryPercent: average(\.memoryPercent), swapPercent: average(\.swapPercent),
            diskPercent: average(\.diskPercent), load1: average(\.load1), receivedBytesPerSecond: average(\.receivedBytesPerSecond),
            sentBytesPerSecond: average(\.sentBytesPerSecond), processes: average(\.processes))
    }
}

/// Gathers samples into one point per whole minute: a sample of a later minute closes the one
/// before and returns it.
public struct MetricAggregator: Sendable {
    public static let minute: Int64 = 60_000_000
    private var pending: [MetricPoint] = []
    private var bucket: Int64?

    public init() {}

    /// Adds `sample`; returns the previous minute's point when `sample` starts a new minute.
    public mutating func add(_ sample: SystemSample) -> MetricPoint? {
        // The first sample has no interval behind it (no CPU use, no rates): leave it out.
        guard sample.cpuPercent != nil else { return nil }
        let start = sample.time - ((sample.time % Self.minute) + Self.minute) % Self.minute
        var closed: MetricPoint?
        if let bucket, bucket != start {
            closed = MetricPoint.merge(pending, time: bucket, seconds: 60)
            pending.removeAll(keepingCapacity: true)
        }
        bucket = start
        pending.append(MetricPoint(sample))
        return closed
    }

    /// The minute in progress so far (for a chart's last point), if any.
    public var current: MetricPoint? { bucket.flatMap { MetricPoint.merge(pending, time: $0, seconds: 60) } }
}
