/// Counts of times in equal buckets ending now: the dashboard's alerts over the last hour (12 ×
/// 5 minutes), day (24 × 1 hour) and week (7 × 1 day). Pure: `now` is given.
public struct TimeHistogram: Sendable, Hashable {
    /// Start of the first bucket, in microseconds.
    public let start: Int64
    /// Bucket width, in microseconds.
    public let width: Int64
    public private(set) var counts: [Int]

    /// `buckets` buckets of `width` microseconds, the last one ending at `now`.
    public init(buckets: Int, width: Int64, now: Int64) {
        let count = max(1, buckets)
        self.width = max(1, width)
        let (span, overflow) = self.width.multipliedReportingOverflow(by: Int64(count))
        self.start = overflow ? Int64.min : now &- span
        self.counts = Array(repeating: 0, count: count)
    }

    /// Counts `time` if it falls in a bucket.
    public mutating func add(_ time: Int64) {
        guard time >= start else { return }
        let index = (time &- start) / width
        guard index >= 0, index < Int64(counts.count) else { return }
        counts[Int(index)] &+= 1
    }

    public var total: Int { counts.reduce(0, &+) }
    public var maximum: Int { counts.max() ?? 0 }

    /// Start of bucket `index`, in microseconds.
    public func bucketStart(_ index: Int) -> Int64 { start &+ Int64(index) &* width }

    public static let minute: Int64 = 60_000_000
    /// The last hour in 5-minute buckets.
    public static func hour(now: Int64) -> TimeHistogram { TimeHistogram(buckets: 12, width: 5 * minute, now: now) }
    /// The last day in hours.
    public static func day(now: Int64) -> TimeHistogram { TimeHistogram(buckets: 24, width: 60 * minute, now: now) }
    /// The last week in days.
    public static func week(now: Int64) -> TimeHistogram { TimeHistogram(buckets: 7, width: 24 * 60 * minute, now: now) }
}
