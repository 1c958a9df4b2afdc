/// One `cpu` line of `/proc/stat`: time spent per mode since boot, in clock ticks. Usage over an
/// interval is the busy share of the difference between two samples.
public struct CPUTimes: Sendable, Equatable {
    /// `cpu` for the total, `cpu0`, `cpu1`, ... per core.
    public var name: String
    public var user, nice, system, idle, iowait, irq, softirq, steal: UInt64

    /// Ticks spent doing anything but waiting.
    public var busy: UInt64 { user &+ nice &+ system &+ irq &+ softirq &+ steal }
    public var total: UInt64 { busy &+ idle &+ iowait }

    /// The `cpu` lines of a `/proc/stat` text: the total first, then each core.
    public static func parse(_ text: String) -> [CPUTimes] {
        text.split(separator: "\n").compactMap { line in line.hasPrefix("cpu") ? CPUTimes(line) : nil }
    }

    init?(_ line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 9 else { return nil }
        let numbers = fields[1...8].compactMap { UInt64($0) }
        guard numbers.count == 8 else { return nil }
        name = String(fields[0])
        (user, nice, system, idle, iowait, irq, softirq, steal) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5], numbers[6], numbers[7])
    }

    /// The busy share (0...1) between `earlier` and this sample; nil when no time passed or the
    /// counters went back (a reset).
    public func usage(since earlier: CPUTimes) -> Double? {
        guard total > earlier.total, busy >= earlier.busy else { return nil }
        return Double(busy - earlier.busy) / Double(total - earlier.total)
    }
}
