import DetectionEngine
import EventPipeline
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Reloads the live rules from the directory they were loaded from, without a restart: from the
/// dashboard (admins), `POST /api/rules/reload`, `SIGHUP`, or a change of the indicator lists
/// (on this node at once, on others within ``listCheckSeconds``). The rules are compiled against
/// the lists (``IndicatorListStore``) as they are then. The new set is validated first; a set
/// with errors is refused with them and the running rules stay.
public final class RuleReloader: Service, Sendable {
    /// What a reload attempt gave.
    public enum Outcome: Sendable, Equatable {
        /// The new rules run: how many; the correlations whose state carried over and those that
        /// started empty; how many open alerts of changed or removed correlations were closed.
        case reloaded(rules: Int, kept: [String], reset: [String], closedAlerts: Int)
        /// Refused: the rule files' errors (`file:line: message`), the running rules unchanged.
        case refused([String])
        /// Live detection is off (no rules were found at startup): nothing to reload.
        case detectionOff
    }

    /// The directory (or file) the rules come from.
    public let path: String?
    private let stage: DetectionStage?
    private let logger: Logger
    private let audit: @Sendable (AuditTrail.Entry) async -> Void
    private let lists: Lists?
    /// The lists' version the running rules were compiled with.
    private let compiledVersion = Mutex<String?>(nil)
    /// How often other nodes' list changes are looked for.
    let listCheckSeconds: Double

    /// Where the placeholder lists come from: the lists themselves, and a version that changes
    /// whenever they do.
    struct Lists: Sendable {
        var table: @Sendable () async throws -> PlaceholderTable
        var version: @Sendable () async throws -> String
    }

    init(path: String?, stage: DetectionStage?, logger: Logger, lists: Lists? = nil, listsVersion: String? = nil, listCheckSeconds: Double = 10,
         audit: @escaping @Sendable (AuditTrail.Entry) async -> Void = { _ in }) {
        self.path = path
        self.stage = stage
        self.logger = logger
        self.audit = audit
        self.lists = lists
        self.listCheckSeconds = listCheckSeconds
        compiledVersion.withLock { $0 = listsVersion }
    }

    /// Reads, validates and (when valid) switches to the rules at ``path``. `actor` is who asked,
    /// for the log and the audit trail.
    public func reload(by actor: AuditTrail.Actor) async -> Outcome {
        let outcome = await attempt(by: actor.name)
        let after: String
        switch outcome {
        case .reloaded(let rules, let kept, let reset, let closed):
            after = "reloaded: \(rules) rules, kept \(kept.joined(separator: " ")), reset \(reset.joined(separator: " ")), \(closed) alerts closed"
        case .refused(let errors): after = "refused: " + errors.prefix(20).joined(separator: "; ")
        case .detectionOff: after = "live detection is off"
        }
        await audit(.init(actor: actor, action: "rules.reload", target: "rules:\(path ?? "-")", after: after))
        return outcome
    }

    private func attempt(by who: String) async -> Outcome {
        guard let path, let stage else { return .detectionOff }
        var table = PlaceholderTable()
        if let lists {
            do {
                let version = try await lists.version()
                table = try await lists.table()
                compiledVersion.withLock { $0 = version }
            } catch {
                return .refused(["cannot read the indicator lists: \(error)"])
            }
        }
        let result = RuleDirectory.load(path, placeholders: table)
        let errors = result.errors.map { "\($0)" }
        guard errors.isEmpty else {
            logger.error("rule reload refused; the running rules stay", metadata: ["by": "\(who)", "path": "\(path)", "errors": "\(errors.count)"])
            for error in errors.prefix(20) { logger.error("rule error", metadata: ["error": "\(error)"]) }
            return .refused(errors)
        }
        let summary = await stage.reload(result.ruleSet)
        guard summary.applied else { return .refused(["the detection stage has stopped (the server is shutting down)"]) }
        logger.notice("rules reloaded", metadata: ["by": "\(who)", "path": "\(path)", "rules": "\(summary.rules)",
                                                   "kept": "\(summary.kept.count)", "reset": "\(summary.reset.count)"])
        return .reloaded(rules: summary.rules, kept: summary.kept, reset: summary.reset, closedAlerts: summary.closedAlerts)
    }

    /// Reloads on every `SIGHUP`, and when the indicator lists change, until graceful shutdown.
    public func run() async throws {
        guard stage != nil else {
            try? await gracefulShutdown()
            return
        }
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in signals {
                        _ = await self.reload(by: AuditTrail.Actor(name: "secmon (SIGHUP)", kind: .system, sourceIP: nil))
                    }
                }
                if let lists = self.lists {
                    group.addTask { await self.watch(lists) }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Reloads when the lists' version differs from the one the running rules were compiled with
    /// (another node, or the database edited by hand).
    private func watch(_ lists: Lists) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int(listCheckSeconds * 1000)))
            if Task.isCancelled { return }
            guard let version = try? await lists.version() else { continue }
            if compiledVersion.withLock({ $0 }) != version {
                _ = await reload(by: AuditTrail.Actor(name: "secmon (indicator lists changed)", kind: .system, sourceIP: nil))
            }
        }
    }
}
