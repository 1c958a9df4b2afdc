/// One group's event counts for a ``BaselineRule/Kind/rate(history:minHistory:deviations:minCount:)``
/// rule: the count of the current bucket (a timespan aligned on the epoch), and the counts of the
/// buckets before it (silent buckets count 0), as many as the rule keeps.
///
/// The threshold for the current bucket is computed once, when it starts, from the buckets
/// before: median + deviations × MAD (median absolute deviation, at least 1), a robust baseline a
/// burst in the history does not drag up. Pure and deterministic.
struct RateHistory: Sendable {
    /// The current bucket's index (time / span) and its count.
    private(set) var bucket: Int64
    private(set) var count = 0
    /// Counts of earlier buckets, oldest first, at most the rule's history.
    private(set) var counts: [Int32] = []
    /// Buckets seen since the group's first event (for the minimum history).
    private(set) var age = 0
    /// When the last event happened, and the current bucket's first.
    private(set) var lastTime: Int64
    private(set) var firstInBucket: Int64
    /// The current bucket's threshold, its median and MAD (nil: not enough history yet).
    private(set) var threshold: Double?
    private(set) var median = 0.0
    private(set) var mad = 0.0
    /// The open alert's number (-1: none), and whether the bucket before went over its threshold.
    var openAlert = -1
    private(set) var previousOver = false

    init(time: Int64, span: Int64) {
        bucket = time / span
        lastTime = time
        firstInBucket = time
    }

    /// A history as ``BaselineSnapshot`` kept it (its threshold recomputed for the rule).
    init(bucket: Int64, count: Int, counts: [Int32], age: Int, lastTime: Int64, firstInBucket: Int64,
         history: Int, minHistory: Int, deviations: Double) {
        self.bucket = bucket
        self.count = max(0, count)
        self.counts = Array(counts.suffix(history))
        self.age = max(0, age)
        self.lastTime = lastTime
        self.firstInBucket = firstInBucket
        computeThreshold(minHistory: minHistory, deviations: deviations)
    }

    enum Outcome: Equatable {
        /// Within the baseline (or not enough history).
        case normal
        /// The current bucket went over its threshold.
        case over
    }

    /// What a new bucket did to the episode: whether the bucket that ended went over.
    struct Rollover: Equatable {
        var ended: Bool
        var endedOver: Bool
    }

    /// Counts an event at `time` (not before ``lastTime``).
    mutating func observe(_ time: Int64, span: Int64, history: Int, minHistory: Int, deviations: Double, minCount: Int,
                          rollover: inout Rollover) -> Outcome {
        lastTime = time
        let now = time / span
        if now > bucket {
            let over = threshold.map { Double(count) > $0 } ?? false
            rollover = Rollover(ended: true, endedOver: over)
            previousOver = over
            // The finished bucket, then a zero for each silent one (at most the history's length).
            counts.append(Int32(clamping: count))
            let silent = min(now - bucket - 1, Int64(history))
            if silent > 0 { counts.append(contentsOf: repeatElement(0, count: Int(silent))) }
            if counts.count > history { counts.removeFirst(counts.count - history) }
            age = age.addingReportingOverflow(Int(min(now - bucket, Int64(Int32.max)))).partialValue
            bucket = now
            count = 0
            firstInBucket = time
            computeThreshold(minHistory: minHistory, deviations: deviations)
        }
        count += 1
        guard let threshold, count >= minCount, Double(count) > threshold else { return .normal }
        return .over
    }

    private mutating func computeThreshold(minHistory: Int, deviations: Double) {
        guard age >= minHistory, counts.count >= minHistory else { threshold = nil; return }
        let sorted = counts.sorted()
        median = Self.median(sorted.map(Double.init))
        let center = median
        mad = Self.median(sorted.map { abs(Double($0) - center) }.sorted())
        threshold = median + deviations * max(mad, 1)
    }

    private static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
