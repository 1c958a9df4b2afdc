import HostSensors
import Testing

/// Minute points from samples: a sample of a later minute closes the one before; a first sample
/// (no interval behind it) is left out; averages are weighted by samples and the CPU peak kept.
@Suite("Metric aggregation")
struct MetricAggregatorTests {
    static func sample(at seconds: Int64, cpu: Double?, memoryUsed: UInt64 = 50) -> SystemSample {
        SystemSample(time: seconds * 1_000_000, hostname: "web1", cpuPercent: cpu, corePercents: [], load: nil, memoryTotalBytes: 100,
                     memoryAvailableBytes: 100 - memoryUsed, swapTotalBytes: 0, swapFreeBytes: 0, disks: [], interfaces: [],
                     uptimeSeconds: 1, processCount: 10)
    }

    @Test("one point per whole minute, closed by the next minute's first sample")
    func minutes() throws {
        var aggregator = MetricAggregator()
        let start: Int64 = 1_796_000_040 + 40  // 40 s into a minute
        #expect(aggregator.add(Self.sample(at: start, cpu: nil)) == nil)  // first sample: no CPU yet
        #expect(aggregator.add(Self.sample(at: start + 5, cpu: 10)) == nil)
        #expect(aggregator.add(Self.sample(at: start + 10, cpu: 30, memoryUsed: 70)) == nil)
        #expect(aggregator.current?.samples == 2)
        let next = aggregator.add(Self.sample(at: start + 25, cpu: 90))  // the next minute
        let closed = try #require(next)
        #expect(closed.time == (start - 40) * 1_000_000 && closed.seconds == 60 && closed.samples == 2)
        #expect(closed.cpuPercent == 20 && closed.cpuPeakPercent == 30 && closed.memoryPercent == 60)
        #expect(aggregator.current?.cpuPercent == 90 && aggregator.current?.time == (start + 20) * 1_000_000)
    }

    @Test("merging weights by samples and keeps the highest peak; nothing merges to nothing")
    func merge() throws {
        func point(_ cpu: Double, _ peak: Double, samples: Int) -> MetricPoint {
            MetricPoint(time: 0, seconds: 60, samples: samples, cpuPercent: cpu, cpuPeakPercent: peak, memoryPercent: 0, swapPercent: 0,
                        diskPercent: 0, load1: 0, receivedBytesPerSecond: 0, sentBytesPerSecond: 0, processes: 0)
        }
        let merged = try #require(MetricPoint.merge([point(10, 15, samples: 3), point(50, 80, samples: 1)], time: 7, seconds: 900))
        #expect(merged.cpuPercent == 20 && merged.cpuPeakPercent == 80 && merged.samples == 4 && merged.time == 7 && merged.seconds == 900)
        #expect(MetricPoint.merge([], time: 0, seconds: 900) == nil)
    }
}
