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
    /// The live detection engine, when rules are loaded.
    public let detection: LiveDetection?
    private let encoder = ActivityLogEncoder()
    private let logger: Logger

    init(logFile: AppendOnlyLogFile, rows: BatchingWriter<ActivityEvent>, detection: LiveDetection?, logger: Logger) {
        self.logFile = logFile
        self.rows = rows
        self.detection = detection
        self.logger = logger
    }

    /// Writes `event` to the log (waiting as the flush policy says), queues its row, and runs it
    /// through the live rules.
    public func record(_ event: ActivityEvent) async {
        rows.submit(event)
        detection?.observe(event)
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
        try await detection?.flush()
    }

    /// Flushes and closes both sinks.
    public func shutdown() async {
        await rows.shutdown()
        await detection?.shutdown()
        await logFile.close()
    }
}
