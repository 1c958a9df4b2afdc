import EventPipeline
import LogFormats
import Logging
import SecurityModel

/// The one writer of activity: each event becomes a line of the activity log (awaited per the
/// flush policy) and a row of `events` (batched, not awaited).
public final class ActivityRecorder: Sendable {
    /// The log file.
    public let logFile: AppendOnlyLogFile
    /// The database batcher.
    public let rows: BatchingWriter<ActivityEvent>
    private let encoder = ActivityLogEncoder()
    private let logger: Logger

    init(logFile: AppendOnlyLogFile, rows: BatchingWriter<ActivityEvent>, logger: Logger) {
        self.logFile = logFile
        self.rows = rows
        self.logger = logger
    }

    /// Writes `event` to the log (waiting as the flush policy says) and queues its row.
    public func record(_ event: ActivityEvent) async {
        rows.submit(event)
        do {
            try await logFile.append(encoder.encode(event))
        } catch {
            // The line stays queued in the writer and is retried; the request itself is not failed.
            logger.error("activity log write failed", metadata: ["error": "\(error)", "event_id": "\(event.eventID)"])
        }
    }

    /// Waits until everything recorded so far is in the file and the database.
    public func flush() async throws {
        try await logFile.flush()
        try await rows.flush()
    }

    /// Flushes and closes both sinks.
    public func shutdown() async {
        await rows.shutdown()
        await logFile.close()
    }
}
