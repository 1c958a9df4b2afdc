import EventPipeline
import Logging
import Synchronization
import Testing

@Suite("Batching writer", .timeLimit(.minutes(10)))
struct BatchingWriterTests {
    final class Sink: Sendable {
        let batches = Mutex<[[Int]]>([])
        let failuresLeft = Mutex(0)

        func write(_ batch: [Int]) async throws {
            struct Injected: Error {}
            if failuresLeft.withLock({ left in
                guard left > 0 else { return false }
                left -= 1
                return true
            }) { throw Injected() }
            batches.withLock { $0.append(batch) }
        }

        var items: [Int] { batches.withLock { $0.flatMap { $0 } } }
    }

    @Test("every submitted item is written once, in batches no larger than the limit")
    func batches() async throws {
        let sink = Sink()
        let writer = BatchingWriter<Int>(maxBatch: 100, maxDelay: 0.01, bytes: { _ in 8 }, logger: Logger(label: "test")) { try await sink.write($0) }
        let running = Task { try await writer.run() }
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<10 { group.addTask { for i in 0..<1000 { writer.submit(t * 1000 + i) } } }
        }
        try await writer.flush()
        #expect(sink.items.sorted() == Array(0..<10_000))
        #expect(sink.batches.withLock { $0.allSatisfy { $0.count <= 100 } })
        #expect(writer.stats.written == 10_000)
        writer.stop()
        try await running.value
    }

    @Test("a failed batch is retried, not lost")
    func retry() async throws {
        let sink = Sink()
        sink.failuresLeft.withLock { $0 = 3 }
        let writer = BatchingWriter<Int>(maxBatch: 10, maxDelay: 0.005, bytes: { _ in 8 }, logger: Logger(label: "test")) { try await sink.write($0) }
        let running = Task { try await writer.run() }
        for i in 0..<50 { writer.submit(i) }
        var attempts = 0
        while writer.stats.written < 50 && attempts < 400 {
            try await Task.sleep(for: .milliseconds(10))
            attempts += 1
        }
        #expect(sink.items.sorted() == Array(0..<50))
        #expect(writer.stats.failures == 3)
        #expect(writer.stats.dropped == 0)
        writer.stop()
        try await running.value
    }

    @Test("beyond the byte budget the oldest items are dropped and counted")
    func capacity() async throws {
        let sink = Sink()
        let writer = BatchingWriter<Int>(maxBatch: 10, maxDelay: 0.01, budgetBytes: 800, bytes: { _ in 8 }, logger: Logger(label: "test")) { try await sink.write($0) }
        for i in 0..<150 { writer.submit(i) }
        #expect(writer.stats.dropped == 50)
        #expect(writer.stats.queuedBytes == 800)
        try await writer.flush()
        #expect(sink.items == Array(50..<150))
    }

    @Test("shutdown writes what is pending")
    func shutdownFlushes() async throws {
        let sink = Sink()
        let writer = BatchingWriter<Int>(maxBatch: 1000, maxDelay: 5, bytes: { _ in 8 }, logger: Logger(label: "test")) { try await sink.write($0) }
        let running = Task { try await writer.run() }
        for i in 0..<10 { writer.submit(i) }
        writer.stop()
        try await running.value
        #expect(sink.items.sorted() == Array(0..<10))
    }
}
