/// Latencies in buckets a tenth of a millisecond wide up to 100 ms, then a millisecond wide up to
/// 10 s, then one overflow bucket: enough resolution for percentiles of a pipeline that should
/// answer in milliseconds, in a fixed 11 KiB.
public struct LatencyHistogram: Sendable, Equatable {
    private var fine = [Int](repeating: 0, count: 1000)    // 0.1 ms steps, 0..<100 ms
    private var coarse = [Int](repeating: 0, count: 9900)  // 1 ms steps, 100 ms..<10 s
    private var over = 0
    /// Values recorded.
    public private(set) var count = 0

    public init() {}

    /// Records one latency (negative values count as zero).
    public mutating func record(milliseconds: Double) {
        count &+= 1
        let value = max(0, milliseconds)
        if value < 100 {
            fine[min(999, Int(value * 10))] &+= 1
        } else if value < 10_000 {
            coarse[min(9899, Int(value) - 100)] &+= 1
        } else {
            over &+= 1
        }
    }

    /// The latency at or below which `fraction` (0...1) of the values lie, in milliseconds: the
    /// upper edge of its bucket; `nil` when nothing was recorded, 10 000 for anything past 10 s.
    public func percentile(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((Double(count) * min(max(fraction, 0), 1)).rounded(.up)))
        var seen = 0
        for (index, n) in fine.enumerated() {
            seen += n
            if seen >= rank { return Double(index + 1) / 10 }
        }
        for (index, n) in coarse.enumerated() {
            seen += n
            if seen >= rank { return Double(index + 101) }
        }
        return 10_000
    }
}
