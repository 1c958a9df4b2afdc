import Logging
import ServiceLifecycle

/// Deletes expired sessions every `intervalSeconds`. Expired sessions are refused on use anyway;
/// this only keeps the table small.
struct SessionPurger: Service {
    let sessions: SessionStore
    let intervalSeconds: Double
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(intervalSeconds))
                do { _ = try await sessions.purgeExpired() } catch {
                    logger.warning("session purge failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
