import Logging
import ServiceLifecycle

/// Runs the file integrity check on a schedule inside `secmon serve`; the first check of a fresh
/// install records the baseline. A failed check is logged and tried again at the next interval.
struct FileIntegrityService: Service {
    let monitor: FileIntegrityMonitor
    let intervalSeconds: Double
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await checkOnce()
                try await Task.sleep(for: .seconds(intervalSeconds))
            }
        }
    }

    func checkOnce() async {
            do {
                let result = try await monitor.check(initialise: true, by: .secmon)
                if result.recordedBaseline {
                    logger.notice("file integrity: baseline of \(result.paths) paths recorded (\(result.problems.count) unreadable)")
                } else if !result.fresh.isEmpty || !result.problems.isEmpty {
                    logger.notice("file integrity: \(result.fresh.count) new change(s), \(result.changes.count) open, \(result.problems.count) unreadable")
                }
            } catch {
                logger.warning("file integrity check failed: \(error)")
            }
    }
}
