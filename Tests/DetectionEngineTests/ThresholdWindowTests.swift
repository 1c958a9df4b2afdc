import DetectionEngine
import SecurityModel
import Testing

@Suite("Sliding threshold windows")
struct ThresholdWindowTests {
    static func t(_ seconds: Double) -> Timestamp { Timestamp(secondsSince1970: 1_700_000_000 + seconds) }

    @Test("3 failures do not fire 'more than 3'; the 4th does")
    func boundary() {
        var window = ThresholdWindow<String>(timespanSeconds: 300, greaterThan: 3)
        #expect(window.observe("ip", at: Self.t(0)) == .quiet)
        #expect(window.observe("ip", at: Self.t(10)) == .quiet)
        #expect(window.observe("ip", at: Self.t(20)) == .quiet)
        #expect(window.observe("ip", at: Self.t(30)) == .opened(count: 4))
        #expect(window.observe("ip", at: Self.t(40)) == .extended(count: 5))
    }

    @Test("an event exactly one timespan later is still in the window; one microsecond more is not")
    func windowEdge() {
        var inside = ThresholdWindow<String>(timespanSeconds: 300, greaterThan: 1)
        _ = inside.observe("k", at: Self.t(0))
        #expect(inside.observe("k", at: Self.t(300)) == .opened(count: 2))
        var outside = ThresholdWindow<String>(timespanSeconds: 300, greaterThan: 1)
        _ = outside.observe("k", at: Self.t(0))
        #expect(outside.observe("k", at: Self.t(300.000001)) == .quiet)
    }

    @Test("windows slide rather than reset at clock boundaries")
    func sliding() {
        var window = ThresholdWindow<String>(timespanSeconds: 60, greaterThan: 2)
        // Two events late in one minute and one early in the next: 3 within 60 s.
        _ = window.observe("k", at: Self.t(50))
        _ = window.observe("k", at: Self.t(55))
        #expect(window.observe("k", at: Self.t(65)) == .opened(count: 3))
    }

    @Test("an episode ends when the count falls back; the next crossing opens a new one")
    func episodes() {
        var window = ThresholdWindow<String>(timespanSeconds: 10, greaterThan: 1)
        _ = window.observe("k", at: Self.t(0))
        #expect(window.observe("k", at: Self.t(1)) == .opened(count: 2))
        #expect(window.observe("k", at: Self.t(2)) == .extended(count: 3))
        #expect(window.observe("k", at: Self.t(100)) == .quiet)
        #expect(window.observe("k", at: Self.t(101)) == .opened(count: 2))
    }

    @Test("keys are independent, even interleaved")
    func interleaved() {
        var window = ThresholdWindow<String>(timespanSeconds: 60, greaterThan: 2)
        var outcomes: [ThresholdWindow<String>.Outcome] = []
        for i in 0..<6 { outcomes.append(window.observe(i % 2 == 0 ? "a" : "b", at: Self.t(Double(i)))) }
        #expect(outcomes == [.quiet, .quiet, .quiet, .quiet, .opened(count: 3), .opened(count: 3)])
    }

    @Test("eviction keeps memory bounded by live keys")
    func eviction() {
        var window = ThresholdWindow<Int>(timespanSeconds: 60, greaterThan: 5)
        for i in 0..<10_000 {
            _ = window.observe(i, at: Self.t(Double(i)))
            if i % 100 == 0 { window.evict(before: Self.t(Double(i))) }
        }
        window.evict(before: Self.t(10_000))
        #expect(window.liveKeyCount <= 61)
    }
}
