import DetectionEngine
import EventPipeline
import Foundation
import SecurityModel
import SQLKit
import Vapor

/// Builds the long-running parts: the activity log, the pipeline (intake, detection stage, alert
/// bus and its sinks), the `events` writer and the session purger, all handed to one
/// ``SecMonRuntime``. Nothing starts here: the service group runs them.
///
/// Adding a sink is one line in `alertSinks`; adding a source is one file and one line here.
func configureServices(_ app: Application, _ config: SecMonConfig) async throws -> SecMonServices {
    // SQLite's statements (mostly the batched event inserts) and blocking file I/O run on Vapor's
    // thread pool. Below the event loops' priority they yield the CPU to requests under load: the
    // log file already holds every event, the rows may lag a little. Measured with 10 s wrk runs of
    // GET /api/status, twice each way: p99 11.5 / 10.5 ms with it, 13.1 / 11.9 ms without.
    ThreadPriority.lower(app.threadPool, threads: app.threadPool.numberOfThreads, nice: 10)
    let database: @Sendable () -> (any SQLDatabase)? = { app.db as? any SQLDatabase }

    // Rules first: a startup that fails on them has not opened the log yet (nothing to close).
    let rules = try loadLiveRules(app, config)
    let logFile = try openActivityLog(config)

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
        let alertSinks: [any EventSink<SecurityAlert>] = [
            store,
        ]
        let newBus = AlertBus(sinks: alertSinks, budgetBytes: config.sinkQueueBytes, logger: app.logger)
        let newIntake = EventIntake(budgetBytes: config.intakeQueueBytes)
        // Every live source is ordered (stamped by the intake): detection holds nothing back.
        detection = DetectionStage(rules: rules.ruleSet, intake: newIntake, bus: newBus, latenessSeconds: 0,
                                   tickSeconds: config.detectionTickSeconds, node: config.nodeName, logger: app.logger)
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
    let hasher = PasswordHasher(cost: config.bcryptCost, threads: config.passwordHashThreads, queueLimit: config.passwordQueueLimit)
    let sessions = SessionStore(
        database: { app.db }, idleSeconds: config.sessionIdleSeconds, maxSeconds: config.sessionMaxSeconds,
        cacheSeconds: config.sessionCacheSeconds
    )
    let runtime = SecMonRuntime(
        intake: intake, detection: detection, alerts: bus, alertStore: alertStore, eventRows: rows,
        rules: RuleReloader(path: rules?.path, stage: detection, logger: app.logger),
        others: [SessionPurger(sessions: sessions, intervalSeconds: 600, logger: app.logger)], logger: app.logger
    )
    return SecMonServices(
        config: config, hasher: hasher, sessions: sessions,
        recorder: ActivityRecorder(logFile: logFile, rows: rows, intake: intake, logger: app.logger), runtime: runtime
    )
}

/// Loads the rules for live detection. An explicitly named rule path that is missing or has errors
/// stops startup; without one, the bundled pack is used if it can be found.
func loadLiveRules(_ app: Application, _ config: SecMonConfig) throws -> (ruleSet: RuleSet, path: String)? {
    guard config.liveDetection else { return nil }
    let path: String
    do {
        path = try RulePackLocator.locate(config.rulesPath)
    } catch {
        app.logger.warning("live detection is off: \(error)")
        return nil
    }
    let result = RuleDirectory.load(path)
    let errors = result.errors
    guard errors.isEmpty else {
        throw StartupError("the rules under \(path) have \(errors.count) error(s):\n" + errors.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            + "\nFix them ('secmon rules validate \(path)' lists them all) or pass another --rules directory (SECMON_RULES).")
    }
    return (result.ruleSet, path)
}

func openActivityLog(_ config: SecMonConfig) throws -> AppendOnlyLogFile {
    let directory = (config.logPath as NSString).deletingLastPathComponent
    try ensureDirectory(directory.isEmpty ? "." : directory, purpose: "the activity log", option: "--log-path (SECMON_LOG_PATH)")
    do {
        return try AppendOnlyLogFile(path: config.logPath, policy: config.flushPolicy)
    } catch let error as PipelineError {
        throw StartupError(error.message)
    }
}

