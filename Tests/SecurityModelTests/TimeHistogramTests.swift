import SecurityModel
import Testing

@Suite("Time histogram")
struct TimeHistogramTests {
    @Test("times fall in their bucket; those before the start or after now are not counted")
    func buckets() {
        let now: Int64 = 10_000 * TimeHistogram.minute
        var hour = TimeHistogram.hour(now: now)
        hour.add(now - 1)                              // the last bucket
        hour.add(now - 60 * TimeHistogram.minute)      // the first instant of the first bucket
        hour.add(now - 61 * TimeHistogram.minute)      // before
        hour.add(now + 1)                              // after
        hour.add(now - 7 * TimeHistogram.minute)       // 53 minutes in: bucket 10
        #expect(hour.counts.count == 12 && hour.total == 3)
        #expect(hour.counts[0] == 1 && hour.counts[11] == 1 && hour.counts[10] == 1)
        #expect(TimeHistogram.week(now: now).counts.count == 7 && TimeHistogram.day(now: now).counts.count == 24)
        // A span too wide to subtract starts at the earliest time; nothing traps.
        var extreme = TimeHistogram(buckets: 3, width: Int64.max, now: 0)
        #expect(extreme.start == Int64.min)
        extreme.add(Int64.min)
        #expect(extreme.counts == [1, 0, 0])
    }
}
