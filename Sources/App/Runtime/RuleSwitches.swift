import EventPipeline
import Fluent
import Foundation
import Logging
import SecurityModel
import ServiceLifecycle
import SQLKit
import Synchronization

/// Rules an administrator turned off, and the gate that keeps their alerts from being raised.
///
/// A rule that is off still runs (correlations built on it keep working); its new alerts stop at
/// the alert bus, before any sink, and are counted. An alert that began while its rule was on is
/// let through to its end, so that no alert is left open in the stores. Read from
/// `rule_settings` at start, after each change on this node, and every few seconds (other nodes).
public final class RuleSwitches: Service, Sendable {
    static let table = "rule_settings"

    struct State {
        var disabled: Set<String> = []
        /// Alerts let through while their rule was on, still open.
        var passing: Set<String> = []
        var suppressed = 0
    }

    private let state = Mutex(State())
    private let database: @Sendable () -> (any SQLDatabase)?
    private let refreshSeconds: Double
    private let logger: Logger

    init(database: @escaping @Sendable () -> (any SQLDatabase)?, refreshSeconds: Double = 5, logger: Logger) {
        self.database = database
        self.refreshSeconds = refreshSeconds
        self.logger = logger
    }

    /// Rules turned off.
    public var disabled: Set<String> { state.withLock { $0.disabled } }
    /// Alert updates kept back because their rule is off.
    public var suppressed: Int { state.withLock { $0.suppressed } }

    /// The alerts that may be raised: those of rules that are on, and those already under way.
    public func gate(_ alerts: [SecurityAlert]) -> [SecurityAlert] {
        state.withLock { state in
            if state.disabled.isEmpty && state.passing.isEmpty { return alerts }
            return alerts.filter { alert in
                let pass = !state.disabled.contains(alert.rule) || state.passing.contains(alert.id)
                if !pass { state.suppressed &+= 1; return false }
                if alert.status == .closed { state.passing.remove(alert.id) }
                else if !state.disabled.isEmpty && state.passing.count < 1_000_000 { state.passing.insert(alert.id) }
                return true
            }
        }
    }

    /// Turns `rule` on or off, with its audit row.
    public func set(_ rule: String, enabled: Bool, by actor: AuditTrail.Actor, on fluent: any Database) async throws {
        let now = Timestamp.now()
        try await fluent.sqlTransaction { sql in
            let current = try await sql.raw("SELECT enabled FROM rule_settings WHERE rule = \(bind: rule)").first()
                .map { try $0.decode(column: "enabled", as: Bool.self) } ?? true
            try await sql.raw("DELETE FROM rule_settings WHERE rule = \(bind: rule)").run()
            try await sql.raw("""
                INSERT INTO rule_settings (rule, enabled, updated_by, updated_ts) VALUES (\(bind: rule), \(bind: enabled), \(bind: actor.name), \(bind: now.microseconds))
                """).run()
            try await AuditTrail.record(.init(time: now, actor: actor, action: enabled ? "rule.enable" : "rule.disable", target: "rule:\(rule)",
                                              before: current ? "on" : "off", after: enabled ? "on" : "off"), on: sql)
        }
        await reload()
    }

    /// Reads the rules turned off.
    public func reload() async {
        guard let sql = database() else { return }
        do {
            let rows = try await sql.raw("SELECT rule FROM rule_settings WHERE enabled = \(bind: false)").all()
            let off = Set(try rows.map { try $0.decode(column: "rule", as: String.self) })
            state.withLock { $0.disabled = off }
        } catch {
            logger.error("could not read the rules turned off; the previous list stays", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    public func run() async throws {
        await reload()
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(Int(self.refreshSeconds * 1000)))
                await self.reload()
            }
        }
    }
}
