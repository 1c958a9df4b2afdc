import EventPipeline
import SecurityModel
import Synchronization
import Testing

@Suite("Event intake", .timeLimit(.minutes(10)))
struct EventIntakeTests {
    static func event(_ id: String) -> SecurityEvent {
        SecurityEvent(time: Timestamp(microseconds: 0), id: id, source: .activity, fields: [.init("action", .string("X"))])
    }

    @Test("stamped events from many threads come out in strictly increasing time, even when the clock stands still")
    func orderedStamps() async {
        // A clock that never moves: the intake must still hand out increasing times.
        let intake = EventIntake(budgetBytes: 64 << 20, maxBatch: 100_000, now: { Timestamp(microseconds: 1_000_000) })
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<500 {
                        var event = Self.event("\(t)-\(i)")
                        intake.submitStamped(&event)
                    }
                }
            }
        }
        intake.tick()
        intake.finish()
        var times: [Int64] = []
        var tick: Int64?
        while true {
            let batch = await intake.take()
            if batch.isEmpty { break }
            for item in batch {
                switch item {
                case .event(let event): times.append(event.time.microseconds)
                case .tick(let time): tick = time.microseconds
                case .reload: Issue.record("no reload was queued")
                }
            }
            intake.batchDone()
        }
        #expect(times.count == 4000)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        #expect(times.first == 1_000_000)
        // A tick is never earlier than the events queued before it.
        #expect(tick == times.last)
        #expect(intake.statistics.accepted == 4000)
        #expect(intake.statistics.dropped == 0)
    }

    @Test("a full intake refuses events without waiting, counts them, and accepts again once drained")
    func full() async {
        let size = Self.event("x").estimatedBytes
        let intake = EventIntake(budgetBytes: size * 10, now: { Timestamp(microseconds: 5) })
        var accepted = 0
        for i in 0..<25 {
            var event = Self.event("x")
            if intake.submitStamped(&event) { accepted += 1 }
            #expect(event.time.microseconds == 5 + Int64(i))
        }
        #expect(accepted == 10)
        #expect(intake.statistics.dropped == 15)
        #expect(intake.statistics.queuedBytes <= size * 10)
        let batch = await intake.take()
        #expect(batch.count == 10)
        intake.batchDone()
        #expect(intake.isIdle)
        #expect(intake.submit(Self.event("y")))
        // After finish nothing more is accepted, and that is counted too.
        intake.finish()
        #expect(!intake.submit(Self.event("z")))
        #expect(intake.statistics.dropped == 16)
    }

    @Test("a waiting consumer wakes for the next event")
    func wakes() async throws {
        let intake = EventIntake(budgetBytes: 1 << 20)
        let taker = Task { await intake.take() }
        try await Task.sleep(for: .milliseconds(20))
        intake.submit(Self.event("late"))
        let batch = await taker.value
        #expect(batch.count == 1)
    }
}
