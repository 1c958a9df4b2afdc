import EventPipeline
import LogFormats
import Logging
import SecurityModel
import Synchronization

/// The web app's own activity: the pipeline's first source. Each event is stamped in the order it
/// is recorded, handed to the pipeline's intake (for detection; never waited for), queued as a
/// row of `events` (batched, not waited for), and written as a line of the activity log (waited
/// for as the flush policy says).
///
/// Stamping at record time keeps the source ordered, so live detection holds nothing back; the
/// time is when the request was answered (as the original app logged when its handler ran), and
/// `duration_ms` says how long it took.
public final class ActivityRecorder: EventSource, Sendable {
    public let name = "activity"
    public let isOrdered = true
    /// The log file.
    public let logFile: AppendOnlyLogFile
    /// The database batcher.
    public let rows: BatchingWriter<ActivityEvent>
    /// The pipeline's entry, when live detection runs.
    public let intake: EventIntake?
    private let encoder = ActivityLogEncoder()
    private let logger: Logger
    /// The last stamp, when there is no intake to stamp with.
    private let lastStamp = Mutex(Int64.min)

    /// The console's live feed (sampled events for analysts).
    let live: LiveFeed?

    init(logFile: AppendOnlyLogFile, rows: BatchingWriter<ActivityEvent>, intake: EventIntake?, live: LiveFeed? = nil, logger: Logger) {
        self.live = live
        self.logFile = logFile
        self.rows = rows
        self.intake = intake
        self.logger = logger
    }

    /// A push source: requests call ``record(_:)``; there is nothing to run.
    public func run(into intake: EventIntake) async throws {}

    /// Stamps `event`, hands it to detection and the `events` batcher, and writes its log line
    /// (waiting as the flush policy says). Returns the event as recorded.
    @discardableResult
    public func record(_ event: ActivityEvent) async -> ActivityEvent {
        var event = event
        if let intake {
            var security = event.securityEvent
            intake.submitStamped(&security)
            event.timestamp = security.time
        } else {
            let now = Timestamp.now().microseconds
            event.timestamp = Timestamp(microseconds: lastStamp.withLock { last in
                last = last == .min ? now : max(now, last &+ 1)
                return last
            })
        }
        rows.submit(event)
        live?.publish(event: event)
        do {
            try await logFile.append(encoder.encode(event))
        } catch {
            // The line stays queued in the writer and is retried; the request itself is not failed.
            logger.error("activity log write failed", metadata: ["error": "\(error)", "event_id": "\(event.eventID)"])
        }
        return event
    }

    /// Waits until everything recorded so far is in the file and the database.
    public func flush() async throws {
        try await logFile.flush()
        try await rows.flush()
    }

    /// Writes what is pending and closes the log file.
    public func shutdown() async {
        do { try await rows.flush() } catch {
            logger.error("events not written at shutdown", metadata: ["error": "\(error)", "pending": "\(rows.stats.queued)"])
        }
        await logFile.close()
    }
}
