import DetectionEngine
import EventPipeline
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the live rules from the directory they were loaded from, without a restart: from the
/// dashboard (admins), `POST /api/rules/reload`, or `SIGHUP`. The new set is validated first; a
/// set with errors is refused with them and the running rules stay.
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

    init(path: String?, stage: DetectionStage?, logger: Logger, audit: @escaping @Sendable (AuditTrail.Entry) async -> Void = { _ in }) {
        self.path = path
        self.stage = stage
        self.logger = logger
        self.audit = audit
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
        let result = RuleDirectory.load(path)
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

    /// Reloads on every `SIGHUP` until graceful shutdown.
    public func run() async throws {
        guard stage != nil else {
            try? await gracefulShutdown()
            return
        }
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try? await cancelWhenGracefulShutdown {
            for await _ in signals {
                _ = await self.reload(by: AuditTrail.Actor(name: "secmon (SIGHUP)", kind: .system, sourceIP: nil))
            }
        }
    }
}
