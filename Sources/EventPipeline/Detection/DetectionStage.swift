import DetectionEngine
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization

/// The detection stage: owns the engine and its clock, takes events from the intake in batches,
/// and publishes every alert update to the bus. The engine lives in this stage's task alone, so
/// it needs no lock; other threads read a snapshot of its counters.
///
/// Ordered sources are stamped by the intake, so with `latenessSeconds` 0 nothing is held back:
/// an event that completes a rule's condition is published as soon as its batch is handled.
/// A tick every `tickSeconds` moves the clock without events, so quiet alerts close. On graceful
/// shutdown the stage handles what is queued, closes every open alert, and publishes them.
public final class DetectionStage: Service, Sendable {
    /// Counters, for health reports.
    public struct Statistics: Sendable, Equatable {
        /// The engine's own counters (events, matches, late, alerts, live groups).
        public var engine = DetectionEngine.Statistics()
        /// Batches handled.
        public var batches = 0
        /// Alert updates published (opened, extended, closed).
        public var published = 0
        /// Alerts open now.
        public var openAlerts = 0
        /// Rules loaded.
        public var rules = 0
        /// Groups evicted at the cap, by the label of their correlation.
        public var evictions: [String: Int] = [:]
        /// The cap on groups per correlation.
        public var maxGroupsPerCorrelation = 0
    }

    /// The rule that names the meta-alert raised when detection state is evicted.
    public static let evictionRule = "SECMON-EVICTION"
    /// How long after the last eviction an eviction meta-alert stays open, in seconds.
    public static let evictionQuietSeconds: Int64 = 300

    /// What a reload did.
    public struct ReloadSummary: Sendable, Equatable {
        /// Rules now loaded.
        public var rules: Int
        /// Alerts of the previous rules that were open and were closed by the switch.
        public var closedAlerts: Int
        /// False when the stage had already stopped (nothing changed).
        public var applied: Bool
        /// Correlations whose state (windows, open alerts) carried over unchanged.
        public var kept: [String]
        /// Correlations removed or changed: they start empty.
        public var reset: [String]

        public init(rules: Int, closedAlerts: Int, applied: Bool, kept: [String] = [], reset: [String] = []) {
            self.rules = rules
            self.closedAlerts = closedAlerts
            self.applied = applied
            self.kept = kept
            self.reset = reset
        }
    }

    /// The rules in use.
    public var rules: RuleSet { current.withLock { $0 } }

    /// Each alerting rule's label and the playbook it names (the playbook page lists them).
    public var rulePlaybooks: [String: String] {
        let rules = self.rules
        var out: [String: String] = [:]
        for index in 0..<rules.count where rules.raisesAlerts(node: index) {
            let info = rules.info(ofNode: index)
            if let playbook = info.playbook { out[info.label] = playbook }
        }
        return out
    }
    private let current: Mutex<RuleSet>
    private let intake: EventIntake
    private let bus: AlertBus
    private let latenessSeconds: Double
    private let tickSeconds: Double
    private let node: String
    private let limits: DetectionEngine.Limits
    private let logger: Logger
    private let snapshot: Mutex<Statistics>
    private let baselineState: (any BaselineStateStore)?
    private let baselineSaveSeconds: Double

    /// - Parameters:
    ///   - latenessSeconds: how far out of order events may arrive (0 when every source is ordered).
    ///   - tickSeconds: how often the clock moves without events.
    ///   - node: the name alerts carry as the node that raised them.
    ///   - limits: bounds on the engine's live state (groups per correlation).
    ///   - baselineState: where baseline rules' learning is restored from at start and saved to,
    ///     every `baselineSaveSeconds` (at a tick) and when the stage stops.
    public init(rules: RuleSet, intake: EventIntake, bus: AlertBus, latenessSeconds: Double, tickSeconds: Double,
                node: String, limits: DetectionEngine.Limits = .default, baselineState: (any BaselineStateStore)? = nil,
                baselineSaveSeconds: Double = 300, logger: Logger) {
        self.baselineState = baselineState
        self.baselineSaveSeconds = baselineSaveSeconds
        self.limits = limits
        self.current = Mutex(rules)
        self.intake = intake
        self.bus = bus
        self.latenessSeconds = latenessSeconds
        self.tickSeconds = tickSeconds
        self.node = node
        self.logger = logger
        var initial = Statistics()
        initial.rules = rules.count
        initial.maxGroupsPerCorrelation = limits.maxGroupsPerCorrelation
        self.snapshot = Mutex(initial)
    }

    /// The counters as of the last batch.
    public var statistics: Statistics { snapshot.withLock { $0 } }

    public func run() async throws {
        let intake = self.intake
        let tickSeconds = self.tickSeconds
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(tickSeconds))
                        if Task.isCancelled { break }
                        intake.tick()
                    }
                }
                // Cancelled rather than shut down gracefully: stop taking, close what is open.
                await withTaskCancellationHandler {
                    await self.detect()
                } onCancel: {
                    intake.finish()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            intake.finish()
        }
    }

    /// Switches to `rules` once the events queued before this call have been handled. Correlations
    /// whose id, content and sources did not change keep their windows and open alerts; the others
    /// start empty and their open alerts close.
    public func reload(_ rules: RuleSet) async -> ReloadSummary {
        await withCheckedContinuation { continuation in
            if !intake.submitReload(rules, continuation) {
                continuation.resume(returning: ReloadSummary(rules: self.rules.count, closedAlerts: 0, applied: false))
            }
        }
    }

    /// Takes batches until the intake is finished and empty, then closes every open alert.
    private func detect() async {
        let initial = rules
        var engine = DetectionEngine(rules: initial, latenessSeconds: latenessSeconds, limits: limits)
        engine.reportsExtensions = true
        await restoreBaselines(&engine)
        var lastSave = ContinuousClock.now
        var projection = SecurityEventProjection(rules: initial)
        var ids: [Int: String] = [:]
        var evictions = EvictionWatch(maxGroups: limits.maxGroupsPerCorrelation)
        var stats = snapshot.withLock { $0 }
        while true {
            let batch = await intake.take()
            if batch.isEmpty { break }
            for item in batch {
                switch item {
                case .event(let event):
                    engine.process(projection.project(event))
                    evictions.observe(time: event.time)
                case .tick(let time):
                    engine.advance(to: time)
                    evictions.observe(time: time)
                    if baselineState != nil, ContinuousClock.now - lastSave >= .seconds(baselineSaveSeconds) {
                        await saveBaselines(engine)
                        lastSave = ContinuousClock.now
                    }
                case .reload(let rules, let continuation):
                    publish(&engine, &ids, &stats, batch: batch)
                    bus.publish(evictions.update(engine, node: node))
                    evictions.rulesChanged()
                    let before = ids.count
                    let change = engine.replaceRules(rules)
                    publish(&engine, &ids, &stats, batch: batch)
                    let closed = before - ids.count
                    projection = SecurityEventProjection(rules: rules)
                    current.withLock { $0 = rules }
                    stats.rules = rules.count
                    logger.notice("detection rules reloaded", metadata: [
                        "rules": "\(rules.count)", "kept": "\(change.kept.count)", "reset": "\(change.reset.count)", "closed_alerts": "\(closed)",
                    ])
                    continuation.resume(returning: ReloadSummary(rules: rules.count, closedAlerts: closed, applied: true,
                                                                 kept: change.kept, reset: change.reset))
                }
            }
            publish(&engine, &ids, &stats, batch: batch)
            bus.publish(evictions.update(engine, node: node))
            stats.evictions = evictions.totals
            stats.batches &+= 1
            let current = stats
            snapshot.withLock { $0 = current }
            intake.batchDone()
        }
        await saveBaselines(engine)
        engine.finish()
        publish(&engine, &ids, &stats)
        bus.publish(evictions.closeAll(node: node))
        let final = stats
        snapshot.withLock { $0 = final }
        intake.batchDone()
        logger.debug("detection stage stopped", metadata: ["events": "\(stats.engine.events)", "alerts": "\(stats.engine.alerts)"])
    }

    /// Takes back the baselines' saved learning, if a store has it.
    private func restoreBaselines(_ engine: inout DetectionEngine) async {
        guard let baselineState, !engine.rules.baselines.isEmpty else { return }
        do {
            guard let saved = try await baselineState.load() else { return }
            let restored = engine.restoreBaselines(saved)
            logger.notice("baseline state restored", metadata: ["groups": "\(restored)", "saved_groups": "\(saved.groupCount)"])
        } catch {
            logger.error("baseline state could not be read; baselines start learning again", metadata: ["error": "\(error)"])
        }
    }

    /// Saves what the baselines learned (a failure is logged; the next save tries again).
    private func saveBaselines(_ engine: DetectionEngine) async {
        guard let baselineState, !engine.rules.baselines.isEmpty else { return }
        do {
            try await baselineState.save(engine.baselineSnapshot())
        } catch {
            logger.error("baseline state could not be saved", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes the engine's alert updates. A single-event alert (no `group-by`) takes the
    /// entities of its event, found in `batch` (where the event that raised it is), so that it
    /// says what it is about (the host, process, file, address) as a correlation's does.
    private func publish(_ engine: inout DetectionEngine, _ ids: inout [Int: String], _ stats: inout Statistics, batch: [EventIntake.Item] = []) {
        defer {
            stats.engine = engine.statistics
            stats.openAlerts = ids.count
        }
        guard engine.hasUpdates else { return }
        let updates = engine.drainUpdates()
        var alerts: [SecurityAlert] = []
        alerts.reserveCapacity(updates.count)
        // Built once, and only when a batch raised a single-event alert.
        var entitiesByEvent: [EventRef: [Entity]]?
        func entities(of ref: EventRef) -> [Entity]? {
            if entitiesByEvent == nil {
                var map: [EventRef: [Entity]] = [:]
                for case .event(let event) in batch where !event.entities.isEmpty { map[EventRef.id(event.id)] = event.entities }
                entitiesByEvent = map
            }
            return entitiesByEvent?[ref]
        }
        for update in updates {
            let (alert, status): (Alert, SecurityAlert.Status)
            switch update {
            case .opened(let a), .extended(let a): (alert, status) = (a, .open)
            case .closed(let a): (alert, status) = (a, .closed)
            }
            let id: String
            if let known = ids[alert.number] { id = known } else {
                id = EventID.make(at: alert.firstTime)
                ids[alert.number] = id
            }
            if status == .closed { ids[alert.number] = nil }
            var published = Self.securityAlert(alert, id: id, status: status, node: node)
            if alert.group.isEmpty, alert.events.count == 1, alert.events[0] != .unknown, let found = entities(of: alert.events[0]) {
                published.entities = found
            }
            alerts.append(published)
        }
        stats.published &+= alerts.count
        bus.publish(alerts)
    }

    /// The published form of an engine alert.
    static func securityAlert(_ alert: Alert, id: String, status: SecurityAlert.Status, node: String) -> SecurityAlert {
        var entities: [Entity] = []
        for value in alert.group {
            guard let text = value.value, !text.isEmpty, let kind = Entity.Kind(field: value.field) else { continue }
            let entity = Entity(kind, text)
            if !entities.contains(entity) { entities.append(entity) }
        }
        var published = SecurityAlert(id: id, rule: alert.rule.label, title: alert.rule.title, level: alert.level, group: alert.group,
                                      entities: entities, firstTime: alert.firstTime, lastTime: alert.lastTime,
                                      eventCount: alert.eventCount, evidence: alert.events.map { $0.id ?? $0.description },
                                      status: status, node: node, playbook: alert.rule.playbook)
        published.explanation = alert.explanation
        return published
    }
}
