import EventPipeline
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization
import Testing

/// A sink that keeps what it is given, and can be told to fail or hang.
final class RecordingSink: EventSink, Sendable {
    let name: String
    let written = Mutex<[SecurityAlert]>([])
    let failuresLeft = Mutex(0)
    let hangsLeft = Mutex(0)

    init(_ name: String) { self.name = name }

    struct Injected: Error, CustomStringConvertible {
        var description: String { "injected failure" }
    }

    func write(_ batch: [SecurityAlert]) async throws {
        if hangsLeft.withLock({ left in defer { left = max(0, left - 1) }; return left > 0 }) {
            // Hangs, ignoring cancellation, far past the bus's timeout.
            let until = ContinuousClock.now.advanced(by: .seconds(3))
            while ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(50)) }
            return
        }
        if failuresLeft.withLock({ left in defer { left = max(0, left - 1) }; return left > 0 }) { throw Injected() }
        written.withLock { $0 += batch }
    }

    /// The newest state of each alert written, by id.
    var latest: [String: SecurityAlert] {
        written.withLock { Dictionary($0.map { ($0.id, $0) }, uniquingKeysWith: { _, new in new }) }
    }
}

func alert(_ id: String, count: Int, status: SecurityAlert.Status = .open) -> SecurityAlert {
    SecurityAlert(id: id, rule: "R", title: "t", level: .high, group: [.init(field: "ip_address", value: "198.51.100.1")],
                  entities: [Entity(.ip, "198.51.100.1")], firstTime: Timestamp(microseconds: 1),
                  lastTime: Timestamp(microseconds: Int64(count)), eventCount: count, evidence: [], status: status, node: "n")
}

/// Runs `services` in a group for the duration of `body`, then shuts them down gracefully.
func withServices(_ services: [any Service], _ body: () async throws -> Void) async throws {
    let group = ServiceGroup(configuration: .init(services: services, logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    do { try await body() } catch {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
    await group.triggerGracefulShutdown()
    try await running.value
}

func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<400 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
}

@Suite("Alert bus", .timeLimit(.minutes(10)))
struct AlertBusTests {
    @Test("every sink gets every update; a failing sink is retried and does not hold up the others")
    func failingSink() async throws {
        let good = RecordingSink("good"), flaky = RecordingSink("flaky")
        flaky.failuresLeft.withLock { $0 = 3 }
        let bus = AlertBus(sinks: [good, flaky], logger: Logger(label: "test"))
        try await withServices([bus]) {
            for i in 0..<50 { bus.publish([alert("a\(i)", count: 1)]) }
            try await eventually { good.written.withLock { $0.count } == 50 }
            #expect(good.written.withLock { $0.count } == 50)
            try await eventually { flaky.latest.count == 50 }
        }
        #expect(flaky.latest.count == 50)
        let stats = Dictionary(uniqueKeysWithValues: bus.statistics.map { ($0.name, $0) })
        #expect(stats["good"]?.failures == 0)
        #expect(stats["flaky"]?.failures == 3)
        #expect(stats["flaky"]?.lastError == "injected failure")
        #expect(stats["flaky"]?.dropped == 0)
    }

    @Test("a hung sink times out and is retried; the other sink is served meanwhile")
    func hungSink() async throws {
        let good = RecordingSink("good"), hung = RecordingSink("hung")
        hung.hangsLeft.withLock { $0 = 1 }
        let bus = AlertBus(sinks: [good, hung], writeTimeoutSeconds: 0.2, logger: Logger(label: "test"))
        try await withServices([bus]) {
            bus.publish([alert("a", count: 1)])
            try await eventually { good.latest.count == 1 }
            #expect(good.latest.count == 1)
            bus.publish([alert("b", count: 1)])
            try await eventually { good.latest.count == 2 }
            #expect(good.latest.count == 2)
            try await eventually { hung.latest.count == 2 }
        }
        #expect(hung.latest.count == 2)
        #expect(bus.statistics.first { $0.name == "hung" }?.failures == 1)
    }

    @Test("a sink that never recovers drops its oldest updates past its byte budget, counted, and the others lose nothing")
    func budget() async throws {
        let good = RecordingSink("good"), broken = RecordingSink("broken")
        broken.failuresLeft.withLock { $0 = .max }
        let size = alert("a0", count: 1).estimatedBytes
        let bus = AlertBus(sinks: [good, broken], budgetBytes: size * 20, drainSeconds: 0.3, logger: Logger(label: "test"))
        try await withServices([bus]) {
            for step in 0..<10 {
                for i in 0..<10 { bus.publish([alert("a\(step * 10 + i)", count: 1)]) }
                try await eventually { good.latest.count == step * 10 + 10 }
            }
        }
        let stats = Dictionary(uniqueKeysWithValues: bus.statistics.map { ($0.name, $0) })
        #expect(good.latest.count == 100)
        #expect(stats["good"]?.dropped == 0)
        #expect(broken.latest.isEmpty)
        // Everything published to it is accounted for: dropped while queued or at shutdown.
        #expect(stats["broken"]?.dropped == 100)
        #expect(stats["broken"]?.queued == 0)
    }

    @Test("updates of one alert waiting together are written as its newest state")
    func coalesces() async throws {
        let sink = RecordingSink("slow")
        sink.failuresLeft.withLock { $0 = 1 }
        let bus = AlertBus(sinks: [sink], logger: Logger(label: "test"))
        try await withServices([bus]) {
            bus.publish((1...10).map { alert("a", count: $0) } + [alert("b", count: 1), alert("a", count: 11, status: .closed)])
            try await eventually { sink.latest["a"]?.status == .closed }
        }
        #expect(sink.latest["a"]?.eventCount == 11)
        #expect(sink.latest["b"]?.eventCount == 1)
        // The retried batch was coalesced: one write of a, one of b.
        #expect(sink.written.withLock { $0.map(\.id) } == ["a", "b"])
    }
}
