import EventPipeline
import SecurityModel
import Vapor

/// The pipeline's counters and what they mean for an admin: for `/healthz` and the dashboard.
///
/// Anything dropped anywhere is a warning, as is a sink whose last write failed: a monitoring
/// system that silently loses events is worse than one that says so.
public struct PipelineHealth: Sendable {
    public var intake: EventIntake.Statistics?
    public var detection: DetectionStage.Statistics?
    public var sinks: [AlertBus.SinkStatistics]
    public var eventRows: BatchingWriter<ActivityEvent>.Stats
    /// The activity log file's counters.
    public var activityLog: AppendOnlyLogFile.Stats
    /// From an alert's newest event to its row being stored.
    public var alertLatency: LatencyHistogram?

    /// Sentences for an admin, one per problem; empty when all is well. `detailed` adds a failing
    /// sink's last error (which may name internals: for admins only).
    public func warnings(detailed: Bool) -> [String] {
        var out: [String] = []
        if let intake, intake.dropped > 0 {
            out.append("detection intake dropped \(intake.dropped) event(s): its \(intake.budgetBytes)-byte queue was full; those events were logged and stored but not run through the rules")
        }
        if let detection, detection.engine.evictedGroups > 0 {
            let rules = detection.evictions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            out.append("detection evicted \(detection.engine.evictedGroups) group(s) at its cap of \(detection.maxGroupsPerCorrelation) per correlation (\(rules)): many distinct keys, possibly a flood hiding an attack; their windows restarted empty")
        }
        if let detection, detection.engine.trimmedEntries > 0 || detection.engine.truncatedValues > 0 {
            out.append("detection dropped \(detection.engine.trimmedEntries) window entr(ies) early (a window held more than its cap of entries: a flood from one key) and cut \(detection.engine.truncatedValues) overlong value(s)")
        }
        if let detection, detection.engine.forgottenValues > 0 {
            out.append("baselines forgot \(detection.engine.forgottenValues) known value(s) early: a group had more distinct values than a first_seen rule keeps (a flood of values?); those would count as new again")
        }
        if let detection, detection.engine.unscreenedRules > 0 {
            out.append("detection tests \(detection.engine.unscreenedRules) rule(s) on every event: their keywords and values did not fit in the rule screen's memory limit (slower, same alerts)")
        }
        if let detection, detection.engine.late > 0 {
            out.append("detection skipped \(detection.engine.late) late event(s) (older than events already correlated)")
        }
        for sink in sinks {
            if sink.dropped > 0 { out.append("alert sink '\(sink.name)' dropped \(sink.dropped) update(s)") }
            if sink.failures > 0, let error = sink.lastError, sink.queued > 0 {
                out.append("alert sink '\(sink.name)' is failing (\(sink.failures) failed write(s), \(sink.queued) waiting)" + (detailed ? ": \(error)" : ""))
            }
        }
        if activityLog.linesDropped > 0 {
            out.append("the activity log dropped \(activityLog.linesDropped) line(s): its writes failed until its queue was full (\(activityLog.writeErrors) failed write(s))")
        } else if activityLog.writeErrors > 0, activityLog.linesAppended > activityLog.linesWritten {
            out.append("the activity log's writes are failing (\(activityLog.writeErrors) failed write(s)); lines wait in memory and are retried")
        }
        if eventRows.dropped > 0 {
            out.append("the events table writer dropped \(eventRows.dropped) row(s) while the database failed (the activity log has them)")
        }
        return out
    }

    /// The JSON form.
    struct Document: Content {
        struct Intake: Content {
            var accepted: Int
            var dropped: Int
            var queued: Int
            var queuedBytes: Int
            var budgetBytes: Int
            enum CodingKeys: String, CodingKey {
                case accepted, dropped, queued, queuedBytes = "queued_bytes", budgetBytes = "budget_bytes"
            }
        }
        struct Detection: Content {
            var rules: Int
            var events: Int
            var matches: Int
            var late: Int
            var alerts: Int
            var openAlerts: Int
            var liveGroups: Int
            var evictedGroups: Int
            var trimmedWindowEntries: Int
            var truncatedValues: Int
            var maxGroupsPerCorrelation: Int
            enum CodingKeys: String, CodingKey {
                case rules, events, matches, late, alerts, openAlerts = "open_alerts", liveGroups = "live_groups"
                case evictedGroups = "evicted_groups", maxGroupsPerCorrelation = "max_groups_per_correlation"
                case trimmedWindowEntries = "trimmed_window_entries", truncatedValues = "truncated_values"
            }
        }
        struct Sink: Content {
            var name: String
            var published: Int
            var written: Int
            var failures: Int
            var dropped: Int
            var queued: Int
            var lastError: String?
            enum CodingKeys: String, CodingKey {
                case name, published, written, failures, dropped, queued, lastError = "last_error"
            }
        }
        struct Latency: Content {
            var count: Int
            var p50: Double?
            var p99: Double?
            var max: Double?
        }
        struct Writer: Content {
            var written: Int
            var failures: Int
            var dropped: Int
            var queued: Int
        }
        struct Log: Content {
            var appended: Int
            var written: Int
            var writeErrors: Int
            var dropped: Int
            enum CodingKeys: String, CodingKey {
                case appended, written, dropped, writeErrors = "write_errors"
            }
        }
        var status: String
        var warnings: [String]
        var intake: Intake?
        var detection: Detection?
        var sinks: [Sink]
        var eventRows: Writer
        var activityLog: Log
        /// Milliseconds from the event that opened or extended an alert to the alert being stored.
        var alertLatencyMs: Latency?
        /// The console's live feed.
        var live: Live?
        struct Live: Content {
            var connected: Int
            var accepted: Int
            var refused: Int
            var droppedSlow: Int
            var refusedMessages: Int
            var messagesSent: Int
            var eventsSkipped: Int
            enum CodingKeys: String, CodingKey {
                case connected, accepted, refused, droppedSlow = "dropped_slow", refusedMessages = "refused_messages",
                     messagesSent = "messages_sent", eventsSkipped = "events_skipped"
            }
        }
        enum CodingKeys: String, CodingKey {
            case status, warnings, intake, detection, sinks, live, eventRows = "event_rows", alertLatencyMs = "alert_latency_ms"
            case activityLog = "activity_log"
        }
    }

    func document(detailed: Bool, live: LiveFeed.Statistics? = nil) -> Document {
        let warnings = self.warnings(detailed: detailed)
        var document = Document(
            status: warnings.isEmpty ? "ok" : "degraded", warnings: warnings,
            intake: intake.map { .init(accepted: $0.accepted, dropped: $0.dropped, queued: $0.queued, queuedBytes: $0.queuedBytes, budgetBytes: $0.budgetBytes) },
            detection: detection.map {
                .init(rules: $0.rules, events: $0.engine.events, matches: $0.engine.matches, late: $0.engine.late,
                      alerts: $0.engine.alerts, openAlerts: $0.openAlerts, liveGroups: $0.engine.liveGroups,
                      evictedGroups: $0.engine.evictedGroups, trimmedWindowEntries: $0.engine.trimmedEntries,
                      truncatedValues: $0.engine.truncatedValues, maxGroupsPerCorrelation: $0.maxGroupsPerCorrelation)
            },
            sinks: sinks.map { .init(name: $0.name, published: $0.published, written: $0.written, failures: $0.failures,
                                     dropped: $0.dropped, queued: $0.queued, lastError: detailed ? $0.lastError : nil) },
            eventRows: .init(written: eventRows.written, failures: eventRows.failures, dropped: eventRows.dropped, queued: eventRows.queued),
            activityLog: .init(appended: activityLog.linesAppended, written: activityLog.linesWritten, writeErrors: activityLog.writeErrors,
                               dropped: activityLog.linesDropped),
            alertLatencyMs: alertLatency.map { .init(count: $0.count, p50: $0.percentile(0.5), p99: $0.percentile(0.99), max: $0.percentile(1)) })
        document.live = live.map {
            .init(connected: $0.connected, accepted: $0.accepted, refused: $0.refused, droppedSlow: $0.droppedSlow,
                  refusedMessages: $0.refusedMessages, messagesSent: $0.messagesSent, eventsSkipped: $0.eventsSkipped)
        }
        return document
    }
}
