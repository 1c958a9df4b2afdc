import DetectionEngine
import EventPipeline
import FileInspection
import Foundation
import HostSensors
import LogFormats
import ServiceLifecycle
import SecurityModel
import SQLKit
import Synchronization
import Vapor

/// Builds the long-running parts: the activity log, the pipeline (intake, detection stage, alert
/// bus and its sinks), the `events` writer and the session purger, all handed to one
/// ``SecMonRuntime``. Nothing starts here: the service group runs them.
///
/// Adding a sink is one line in `alertSinks`; adding a source is one file and one line here.
func configureServices(_ app: Application, _ config: SecMonConfig) async throws -> SecMonServices {
    // The database threads run at normal priority. They used to run at nice 10 (to favour requests):
    // under load that starved the alert writes behind the event inserts. bench/pipeline.sh, latency
    // part, 15 s of wrk on GET /login, twice each way in one run: event to stored alert p50 40 / 36 ms,
    // p99 200 / 148 ms at nice 10; p50 6.9 / 5.9 ms, p99 25.9 / 25.4 ms at nice 0, with GET /login at
    // 8,100-8,900 req/s (p99 11.5-11.8 ms) and 8,600-9,900 req/s (p99 10.9-12.2 ms).
    let database: @Sendable () -> (any SQLDatabase)? = { app.db as? any SQLDatabase }

    // Rules first: a startup that fails on them has not opened the log yet (nothing to close).
    // They are compiled with the indicator lists the database holds.
    let lists = RuleReloader.Lists(
        table: { try await IndicatorListStore(database: database() ?? { throw StartupError("the database does not speak SQL") }()).placeholders() },
        version: { try await IndicatorListStore(database: database() ?? { throw StartupError("the database does not speak SQL") }()).version() })
    let listsVersion = try await lists.version()
    let rules = try loadLiveRules(app, config, placeholders: try await lists.table())
    let logFile = try openActivityLog(config)

    if let sql = database() {
        let added = try await PlaybookStore(database: sql).seed()
        if added > 0 { app.logger.notice("wrote \(added) bundled playbook(s)") }
        let policies = try await ResponsePolicyStore(database: sql).seed()
        if policies > 0 { app.logger.notice("wrote \(policies) bundled response polic\(policies == 1 ? "y" : "ies")") }
    }
    let sessions = SessionStore(
        database: { app.db }, idleSeconds: config.sessionIdleSeconds, maxSeconds: config.sessionMaxSeconds,
        cacheSeconds: config.sessionCacheSeconds
    )
    // The live feed's counters come from the runtime, built below.
    let runtimeBox = RuntimeBox()
    let live = LiveFeed(limits: config.liveLimits, logger: app.logger) { runtimeBox.stats() }
    let switches = RuleSwitches(database: database, logger: app.logger)
    await switches.reload()
    let responses = ResponseList(refreshSeconds: config.blockListRefreshSeconds, logger: app.logger, onChange: { live.publish(responses: $0, limits: $1, watched: $2) },
                                 fingerprint: { try await ResponseStore(database: app.db).fingerprint() }) {
        try await ResponseStore(database: app.db).active([.block, .rateLimit, .watch])
    }
    if config.responseDryRun { app.logger.notice("automatic response is in dry-run mode: actions are recorded, not taken") }
    let auditor = Auditor(database: database, logger: app.logger)
    let hostResponse = HostResponseService.make(config, database: database, audit: { await auditor.record($0) })

    var syslogExport: SyslogExportSink?
    if let text = config.syslogExport {
        let target = try SyslogExportSink.Target(parsing: text)
        syslogExport = SyslogExportSink(target: target, hostname: config.hostSensors?.hostname ?? config.nodeName)
    }
    var notifier: WebhookNotifier?
    if let url = config.notifyWebhook {
        let settings = try WebhookNotifier.Settings(url: url, minimum: config.notifyLevel, consoleURL: config.publicURL)
        // The webhook's URL often holds a secret: it must not follow a redirect elsewhere.
        app.http.client.configuration.redirectConfiguration = .disallow
        notifier = WebhookNotifier(settings: settings, http: app.http.client.shared, logger: app.logger)
        app.logger.notice("new incidents of severity \(config.notifyLevel.rawValue) or more are posted to \(settings.shown)")
    }
    var intake: EventIntake?
    var detection: DetectionStage?
    var bus: AlertBus?
    var alertStore: AlertStoreSink?
    if let rules {
        if let sql = database() {
            let closed = try await AlertStore(database: sql).closeOpen(node: config.nodeName)
            if closed > 0 { app.logger.notice("closed \(closed) alert(s) left open by the last run of this node") }
        }
        let store = AlertStoreSink(database: database)
        alertStore = store
        var alertSinks: [any EventSink<SecurityAlert>] = [
            store,
            LiveFeedSink(feed: live),
            IncidentSink(database: { app.db }, live: live, responder: ActiveResponder(database: { app.db }, sessions: sessions, responses: responses,
                                                                          host: hostResponse, dryRun: config.responseDryRun, logger: app.logger),
                         notifier: notifier),
        ]
        if let syslogExport {
            alertSinks.append(syslogExport)
            app.logger.notice("alerts are sent to \(syslogExport.target) (RFC 5424 syslog)")
        }
        let newBus = AlertBus(sinks: alertSinks, budgetBytes: config.sinkQueueBytes, logger: app.logger) { alerts in
            responses.raiseWatched(switches.gate(alerts), now: Timestamp.now().microseconds)
        }
        let newIntake = EventIntake(budgetBytes: config.intakeQueueBytes)
        // Every live source is ordered (stamped by the intake): detection holds nothing back.
        detection = DetectionStage(rules: rules.ruleSet, intake: newIntake, bus: newBus, latenessSeconds: 0,
                                   tickSeconds: config.detectionTickSeconds, node: config.nodeName,
                                   limits: DetectionEngine.Limits(maxGroupsPerCorrelation: config.maxGroupsPerCorrelation),
                                   baselineState: SQLBaselineStateStore(database: database), logger: app.logger)
        intake = newIntake
        bus = newBus
        app.logger.notice("live detection: \(rules.ruleSet.count) rules from \(rules.path)")
    }

    let rows = BatchingWriter<ActivityEvent>(
        maxBatch: config.eventBatchSize, maxDelay: config.eventBatchDelay, budgetBytes: config.eventQueueBytes,
        bytes: { $0.estimatedBytes }, logger: app.logger
    ) { batch in
        guard let sql = database() else { return }
        try await EventStore(database: sql).insert(batch)
    }
    // Host events (the sensors', file integrity's, the scanner's) go to detection, to
    // logs/host.log and to `host_events`.
    let hostLog = try openLog(config.hostLogPath, purpose: "the host log", option: "SECMON_HOST_LOG", chained: config.chainLogs)
    let encoder = HostEventEncoder()
    let hostLines = BatchingWriter<SecurityEvent>(maxBatch: 500, maxDelay: 0.2, budgetBytes: 16 << 20, bytes: { $0.estimatedBytes },
                                                  logger: app.logger) { batch in
        var bytes: [UInt8] = []
        for event in batch { bytes += encoder.encode(event) }
        try await hostLog.append(bytes)
    }
    let hostRows = BatchingWriter<SecurityEvent>(maxBatch: 500, maxDelay: 0.5, budgetBytes: 16 << 20, bytes: { $0.estimatedBytes },
                                                 logger: app.logger) { batch in
        guard let sql = database() else { return }
        try await HostEventStore(database: sql).insert(batch)
    }
    let storeHostEvent: @Sendable (SecurityEvent) -> Void = { event in
        hostLines.submit(event)
        hostRows.submit(event)
    }
    // Without live detection the events are still logged and stored (the intake refuses them, counted).
    let hostIntake = intake ?? EventIntake(budgetBytes: 0)
    let raiseHostEvent: @Sendable (SecurityEvent) -> Void = { event in
        var stamped = event
        _ = hostIntake.submitStamped(&stamped)
        storeHostEvent(stamped)
    }
    var host: HostSensorService?
    var hostServices: [any Service] = [hostLines, hostRows]
    if let notifier { hostServices.append(notifier) }
    if config.chainLogs {
        hostServices.append(LogAnchorService(logs: [(absolutePath(config.logPath), logFile), (absolutePath(config.hostLogPath), hostLog)],
                                             database: database, intervalSeconds: config.logAnchorSeconds, logger: app.logger))
    }
    if let hostConfiguration = config.hostSensors {
        let service = HostSensorService(
            configuration: hostConfiguration, intake: hostIntake, retentionDays: config.hostRetentionDays,
            metrics: { database().map { HostMetricStore(database: $0) } }, events: { database().map { HostEventStore(database: $0) } },
            onEvent: storeHostEvent, logger: app.logger)
        host = service
        hostServices.append(service)
    }
    let hostname = config.hostSensors?.hostname ?? config.nodeName
    // Log files followed live: their lines go to detection and, as events, to `host_events`.
    var tails: FileTailSource?
    if !config.tailFiles.isEmpty {
        if let intake, let detection {
            let source = FileTailSource(
                files: config.tailFiles, intake: intake, rulesFields: { detection.rules.fields }, hostname: hostname,
                pollSeconds: config.tailPollSeconds,
                loadPositions: { if let sql = database() { try await TailPositionStore(database: sql).load() } else { [] } },
                savePositions: { positions in if let sql = database() { try await TailPositionStore(database: sql).save(positions) } },
                // Stored for the evidence; not written to logs/host.log, which holds the sensors' own lines.
                onEvent: { hostRows.submit($0) }, logger: app.logger)
            tails = source
            hostServices.append(source)
            app.logger.notice("following \(config.tailFiles.count) log file(s): \(config.tailFiles.map { "\($0.format.rawValue):\($0.path)" }.joined(separator: ", "))")
        } else {
            app.logger.warning("--tail needs live detection (a rule pack): the log files are not followed")
        }
    }
    let fileIntegrity = FileIntegrityMonitor(database: { app.db }, hostname: hostname, onEvent: raiseHostEvent)
    let yaraPath = config.yaraRulesPath ?? ((try? RulePackLocator.locate(config.rulesPath)).map { $0 + "/yara" } ?? "rules/yara")
    let yara = YaraMatcher.load(directory: yaraPath, maxBytes: config.yaraMaxBytes)
    switch yara {
    case .success(let matcher): app.logger.notice("file scanner: YARA \(matcher.summary)")
    case .failure(let reason): app.logger.notice("file scanner: YARA is off: \(reason)")
    }
    var reputation: ReputationLookup?
    if let settings = config.reputation {
        // The API key must not follow a redirect to another host.
        app.http.client.configuration.redirectConfiguration = .disallow
        reputation = ReputationLookup(settings: settings, http: app.http.client.shared)
        app.logger.notice("file scanner: reputation lookup on, \(reputation!.summary)")
    }
    let fileScans = FileScanService(database: database, hostname: hostname, yara: yara, reputation: reputation, onEvent: raiseHostEvent)
    let threatScore = ThreatScoreService(database: database, host: { [host] in host?.monitor.latest }, weights: config.threatWeights,
                                         intervalSeconds: max(config.threatScoreIntervalSeconds ?? 60, 1), retentionDays: config.hostRetentionDays, logger: app.logger)
    if config.threatScoreIntervalSeconds != nil { hostServices.append(threatScore) }
    if let interval = config.fileIntegrityIntervalSeconds {
        hostServices.append(FileIntegrityService(monitor: fileIntegrity, intervalSeconds: max(interval, 1), logger: app.logger))
    }
    let tools = SecurityToolsService(database: database, dnsServer: config.dnsServer, dnsPort: config.dnsPort, audit: { await auditor.record($0) })
    let hasher = PasswordHasher(cost: config.bcryptCost, threads: config.passwordHashThreads, queueLimit: config.passwordQueueLimit,
                                reserved: config.passwordReservedSlots)
    let runtime = SecMonRuntime(
        intake: intake, detection: detection, alerts: bus, alertStore: alertStore, eventRows: rows, activityLog: logFile,
        rules: RuleReloader(path: rules?.path, stage: detection, logger: app.logger, lists: lists, listsVersion: listsVersion,
                            listCheckSeconds: config.indicatorCheckSeconds, audit: { await auditor.record($0) }),
        responses: responses,
        others: [SessionPurger(sessions: sessions, intervalSeconds: 600, logger: app.logger), live, switches] + hostServices, logger: app.logger
    )
    // Blocks and rate limits in force apply from the first request.
    await runtime.responses.reload()
    let services = SecMonServices(
        config: config, hasher: hasher, sessions: sessions,
        recorder: ActivityRecorder(logFile: logFile, rows: rows, intake: intake, live: live, logger: app.logger), runtime: runtime, live: live,
        switches: switches, host: host, fileIntegrity: fileIntegrity, fileScans: fileScans, tools: tools, hostResponse: hostResponse, threatScore: threatScore, tails: tails, syslogExport: syslogExport, notifier: notifier,
        storeIngested: { hostRows.submit($0) },
        auditor: auditor, cursors: try await CursorCodec.load(on: database() ?? { throw StartupError("the database does not speak SQL") }())
    )
    runtimeBox.set(runtime, loginGuard: services.loginGuard)
    return services
}

/// Lets the live feed read the runtime's and the login guard's counters once they exist (they are
/// built after the feed).
final class RuntimeBox: Sendable {
    private let parts = Mutex<(runtime: SecMonRuntime, loginGuard: LoginGuard)?>(nil)
    func set(_ runtime: SecMonRuntime, loginGuard: LoginGuard) { parts.withLock { $0 = (runtime, loginGuard) } }
    func stats() -> LiveStats? {
        guard let (runtime, loginGuard) = parts.withLock({ $0 }) else { return nil }
        let health = runtime.health
        return LiveStats(events: health.eventRows.submitted, droppedEvents: (health.intake?.dropped ?? 0) + health.eventRows.dropped,
                         evictedGroups: health.detection?.engine.evictedGroups ?? 0, alerts: health.detection?.published ?? 0,
                         openAlerts: health.detection?.openAlerts ?? 0, blocked: runtime.responses.refusedRequests,
                         limited: runtime.responses.limitedRequests, throttled: loginGuard.throttled)
    }
}

/// Loads the rules for live detection. An explicitly named rule path that is missing or has errors
/// stops startup; without one, the bundled pack is used if it can be found.
func loadLiveRules(_ app: Application, _ config: SecMonConfig, placeholders: PlaceholderTable) throws -> (ruleSet: RuleSet, path: String)? {
    guard config.liveDetection else { return nil }
    let path: String
    do {
        path = try RulePackLocator.locate(config.rulesPath)
    } catch {
        app.logger.warning("live detection is off: \(error)")
        return nil
    }
    let result = RuleDirectory.load(path, placeholders: placeholders)
    let errors = result.errors
    guard errors.isEmpty else {
        throw StartupError("the rules under \(path) have \(errors.count) error(s):\n" + errors.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            + "\nFix them ('secmon rules validate \(path)' lists them all) or pass another --rules directory (SECMON_RULES).")
    }
    return (result.ruleSet, path)
}

func openActivityLog(_ config: SecMonConfig) throws -> AppendOnlyLogFile {
    try openLog(config.logPath, purpose: "the activity log", option: "--log-path (SECMON_LOG_PATH)", policy: config.flushPolicy, chained: config.chainLogs)
}

/// `path` made absolute (as anchors name their files).
func absolutePath(_ path: String) -> String {
    let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return (full as NSString).standardizingPath
}

/// Opens an append-only log, creating its directory (0750: the log's group, a log shipper, may
/// read it, as the file's own 0640 allows).
func openLog(_ path: String, purpose: String, option: String, policy: FlushPolicy = .default, chained: Bool = false) throws -> AppendOnlyLogFile {
    let directory = (path as NSString).deletingLastPathComponent
    try ensureDirectory(directory.isEmpty ? "." : directory, purpose: purpose, option: option, permissions: 0o750)
    do {
        return try AppendOnlyLogFile(path: path, policy: policy, chained: chained)
    } catch let error as PipelineError {
        throw StartupError(error.message)
    }
}

