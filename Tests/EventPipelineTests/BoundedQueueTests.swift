import EventPipeline
import Testing

@Suite("Bounded queue", .timeLimit(.minutes(10)))
struct BoundedQueueTests {
    @Test("refusing new items keeps what is queued, counts what was refused, and never exceeds the budget")
    func refuseNew() {
        var queue = BoundedQueue<Int>(budgetBytes: 100, overflow: .refuseNew)
        for i in 0..<20 { queue.append(i, bytes: 10) }
        #expect(queue.count == 10)
        #expect(queue.counters.dropped == 10)
        #expect(queue.counters.droppedBytes == 100)
        #expect(queue.counters.queuedBytes == 100)
        #expect(queue.removeFirst(upTo: 3) == [0, 1, 2])
        #expect(queue.counters.queuedBytes == 70)
        // Room again for three more.
        #expect(queue.append(20, bytes: 30) == 0)
        #expect(queue.append(21, bytes: 1) == 1)
        #expect(queue.removeFirst(upTo: 100) == [3, 4, 5, 6, 7, 8, 9, 20])
        #expect(queue.isEmpty)
        #expect(queue.counters.peakBytes == 100)
    }

    @Test("dropping the oldest keeps the newest items within the budget")
    func dropOldest() {
        var queue = BoundedQueue<Int>(budgetBytes: 100, overflow: .dropOldest)
        for i in 0..<15 { queue.append(i, bytes: 10) }
        #expect(queue.counters.dropped == 5)
        // One large item pushes out as many as it needs.
        #expect(queue.append(99, bytes: 35) == 4)
        #expect(queue.removeFirst(upTo: 100) == [9, 10, 11, 12, 13, 14, 99])
        #expect(queue.counters.queuedBytes == 0)
    }

    @Test("an item larger than the whole budget is refused, whatever the policy")
    func oversized() {
        for overflow in [BoundedQueue<Int>.Overflow.refuseNew, .dropOldest] {
            var queue = BoundedQueue<Int>(budgetBytes: 100, overflow: overflow)
            queue.append(1, bytes: 50)
            #expect(queue.append(2, bytes: 101) == 1)
            #expect(queue.removeFirst(upTo: 10) == [1])
        }
    }

    @Test("a batch put back goes in front, and what no longer fits is dropped from the oldest")
    func prepend() {
        var queue = BoundedQueue<Int>(budgetBytes: 50, overflow: .dropOldest)
        for i in 0..<3 { queue.append(i, bytes: 10) }
        let batch = queue.removeFirst(upTo: 2)
        queue.append(3, bytes: 10)
        queue.append(4, bytes: 10)
        queue.append(5, bytes: 10)
        #expect(queue.prepend(batch, bytes: { _ in 10 }) == 1)
        #expect(queue.removeFirst(upTo: 10) == [1, 2, 3, 4, 5])
        #expect(queue.counters.dropped == 1)
    }
}
