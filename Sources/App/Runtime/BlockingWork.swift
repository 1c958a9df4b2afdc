import Dispatch

/// Runs blocking work (reading a file, a socket wait, signalling a process) on a Dispatch thread,
/// never on an event loop or a cooperative thread, and hands back its result.
enum BlockingWork {
    static func run<T: Sendable>(qos: DispatchQoS.QoSClass = .userInitiated, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: qos).async { continuation.resume(with: Result { try work() }) }
        }
    }
}
