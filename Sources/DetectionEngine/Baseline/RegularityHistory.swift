/// One group's recent gaps for a ``BaselineRule/Kind/regularity`` rule: the time of its last
/// event and the gaps between its last occurrences, as many as the rule's repetitions need.
///
/// Pure and deterministic: given the same times in the same order, the same verdicts.
struct RegularityHistory: Sendable {
    /// The last event's time (microseconds).
    private(set) var lastTime: Int64
    /// The most recent gaps, oldest first once full (a ring: `next` is where the next one goes).
    private var gaps: [Int64]
    private var next = 0
    private var filled = 0
    /// The open alert's number, if the group's occurrences are regular now (-1: none).
    var openAlert = -1
    /// When the current stretch's first occurrence happened, and how many occurrences it has had.
    private(set) var stretchStart: Int64
    private(set) var stretchCount = 1

    init(time: Int64, capacity: Int) {
        lastTime = time
        stretchStart = time
        gaps = Array(repeating: 0, count: max(1, capacity))
    }

    /// The recent gaps, oldest first.
    var recentGaps: [Int64] {
        guard filled == gaps.count else { return Array(gaps[0..<filled]) }
        return Array(gaps[next...] + gaps[..<next])
    }

    /// A history as ``BaselineSnapshot`` kept it (gaps beyond `capacity` are dropped, oldest first).
    init(lastTime: Int64, gaps recent: [Int64], stretchStart: Int64, stretchCount: Int, capacity: Int) {
        self.lastTime = lastTime
        self.stretchStart = stretchStart
        self.stretchCount = max(1, stretchCount)
        gaps = Array(repeating: 0, count: max(1, capacity))
        for gap in recent.suffix(gaps.count) {
            gaps[next] = gap
            next = next + 1 == gaps.count ? 0 : next + 1
            filled += 1
        }
    }

    /// What the last occurrence showed.
    struct Verdict: Sendable, Equatable {
        /// Whether the last `repetitions` occurrences were regular.
        var regular: Bool
        /// Whether the history started over (a gap out of bounds).
        var restarted: Bool
        /// Mean and standard deviation of the gaps (microseconds), when there were enough.
        var mean: Double
        var deviation: Double
        /// Occurrences the verdict is about.
        var occurrences: Int
    }

    /// Adds an occurrence at `time` (not before ``lastTime``) and judges the last `repetitions`.
    mutating func observe(_ time: Int64, repetitions: Int, maxVariation: Double, minInterval: Int64, maxInterval: Int64) -> Verdict {
        let gap = time &- lastTime
        lastTime = time
        guard gap >= minInterval, gap <= maxInterval else {
            // Not the machine-regular interval: the count starts again from this occurrence.
            next = 0
            filled = 0
            stretchStart = time
            stretchCount = 1
            return Verdict(regular: false, restarted: true, mean: 0, deviation: 0, occurrences: 1)
        }
        gaps[next] = gap
        next = next + 1 == gaps.count ? 0 : next + 1
        if filled < gaps.count { filled += 1 }
        stretchCount += 1
        guard filled == gaps.count, filled == repetitions - 1 else {
            return Verdict(regular: false, restarted: false, mean: 0, deviation: 0, occurrences: filled + 1)
        }
        var sum = 0.0
        for gap in gaps { sum += Double(gap) }
        let mean = sum / Double(filled)
        var squares = 0.0
        for gap in gaps { let d = Double(gap) - mean; squares += d * d }
        let deviation = (squares / Double(filled)).squareRoot()
        let regular = mean > 0 && deviation <= maxVariation * mean
        if !regular || openAlert < 0 {
            // Not regular: a stretch may start within the last gaps. Regular for the first time:
            // the stretch is the last `repetitions` occurrences.
            var start = time
            for gap in gaps { start &-= gap }
            stretchStart = start
            stretchCount = repetitions
        }
        return Verdict(regular: regular, restarted: false, mean: mean, deviation: deviation, occurrences: repetitions)
    }
}
