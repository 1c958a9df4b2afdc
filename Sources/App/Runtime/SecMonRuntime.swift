import EventPipeline
import Logging
import SecurityModel
import ServiceLifecycle
import UnixSignals

/// Every long-running part of a running SecMon, started and stopped in order by one service
/// group: the alert bus and its sinks, the `events` writer, the detection stage, the session
/// purger, and (for `secmon serve`) the HTTP server. Graceful shutdown runs in reverse: the
/// server stops taking requests, detection handles what they recorded and closes its open
/// alerts, the writers deliver what is queued.
public final class SecMonRuntime: Sendable {
    /// The pipeline's entry (when live detection runs).
    public let intake: EventIntake?
    /// The detection stage (when live detection runs).
    public let detection: DetectionStage?
    /// The alert bus (when live detection runs).
    public let alerts: AlertBus?
    /// The `events` table writer.
    public let eventRows: BatchingWriter<ActivityEvent>
    let alertStore: AlertStoreSink?
    /// The activity log file (its counters are part of the health report).
    let activityLog: AppendOnlyLogFile
    /// Reloads the live rules (admin action, `SIGHUP`).
    public let rules: RuleReloader
    /// Active response in force: blocks and rate limits (checked before any other work) and the watchlist.
    public let responses: ResponseList
    private let background: [any Service]
    private let logger: Logger

    init(intake: EventIntake?, detection: DetectionStage?, alerts: AlertBus?, alertStore: AlertStoreSink?,
         eventRows: BatchingWriter<ActivityEvent>, activityLog: AppendOnlyLogFile, rules: RuleReloader, responses: ResponseList, others: [any Service],
         logger: Logger) {
        self.responses = responses
        self.alertStore = alertStore
        self.activityLog = activityLog
        self.rules = rules
        self.intake = intake
        self.detection = detection
        self.alerts = alerts
        self.eventRows = eventRows
        var services: [any Service] = []
        if let alerts { services.append(alerts) }
        services.append(eventRows)
        if let detection { services.append(detection) }
        services.append(rules)
        services.append(responses)
        services += others
        self.background = services
        self.logger = logger
    }

    /// A group running the background services and then `last` (the HTTP server), shutting down
    /// gracefully on `signals`.
    public func makeGroup(last: [any Service] = [], signals: [UnixSignal] = []) -> ServiceGroup {
        let services = (background + last).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        return ServiceGroup(configuration: configuration)
    }

    /// Waits until every event handed to the pipeline so far has been through detection and every
    /// alert it raised has reached the sinks (tests and benchmarks).
    public func flush() async throws {
        while !(intake?.isIdle ?? true) || !(alerts?.isIdle ?? true) {
            try await Task.sleep(for: .milliseconds(2))
        }
        try await eventRows.flush()
    }

    /// What the health endpoint and the dashboard show.
    public var health: PipelineHealth {
        PipelineHealth(intake: intake?.statistics, detection: detection?.statistics, sinks: alerts?.statistics ?? [],
                       eventRows: eventRows.stats, activityLog: activityLog.currentStats, alertLatency: alertStore?.latency)
    }
}
