import Synchronization

/// A write that takes longer than its timeout.
public struct SinkTimeout: Error, CustomStringConvertible {
    public let seconds: Double
    public var description: String { "the write did not finish within \(seconds) s" }
}

/// Runs `body`, throwing ``SinkTimeout`` when it has not finished within `seconds`.
///
/// The body runs in a task of its own that is cancelled on timeout but not waited for: a sink
/// that ignores cancellation (a hung connection) cannot hold its worker, which retries the batch
/// (sinks write idempotently, by id).
func withTimeout(seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let outcome = ResumeOnce(continuation)
        let work = Task { try await body() }
        let timer = Task {
            try await Task.sleep(for: .seconds(seconds))
            outcome.resume(.failure(SinkTimeout(seconds: seconds)))
            work.cancel()
        }
        Task {
            let result = await work.result
            outcome.resume(result)
            timer.cancel()
        }
    }
}

/// Resumes a continuation with the first result it is given; later ones are ignored.
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, any Error>?>
    init(_ continuation: CheckedContinuation<Void, any Error>) { self.continuation = Mutex(continuation) }
    func resume(_ result: Result<Void, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
