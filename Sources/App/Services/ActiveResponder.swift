import ActiveResponse
import EventPipeline
import Fluent
import Foundation
import Incidents
import Logging
import SecurityModel
import SQLKit

/// Carries out the rules' response policies for new alerts: for each action of the alert's rule's
/// policy, the targets the alert is about (its addresses; for a lock, the accounts that logged in
/// from them during the alert), the duration (escalated for a source blocked before), and the
/// action through ``ResponseStore``, which refuses allowlisted targets. Before those, a policy's
/// host actions: terminate the alert's process and quarantine its file, through
/// ``HostResponseService`` (see `ActiveResponder+Host.swift`). A refused or skipped action is
/// written on the incident's timeline and in the audit trail with the reason, so an analyst sees
/// what SecMon did and did not do, and why.
struct ActiveResponder: Sendable {
    let database: @Sendable () -> any Database
    let sessions: SessionStore
    let responses: ResponseList
    /// Terminates and quarantines for policies that say so (nil: host actions are skipped, said why).
    let host: HostResponseService?
    /// Everything only recorded (`--response-dry-run`).
    let dryRun: Bool
    let logger: Logger
    let clock: @Sendable () -> Timestamp

    init(database: @escaping @Sendable () -> any Database, sessions: SessionStore, responses: ResponseList, host: HostResponseService? = nil,
         dryRun: Bool, logger: Logger, clock: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.database = database
        self.sessions = sessions
        self.responses = responses
        self.host = host
        self.dryRun = dryRun
        self.logger = logger
        self.clock = clock
    }

    /// What a policy did for one alert.
    struct Taken: Sendable {
        /// Actions on addresses and accounts (dry runs included).
        var actions: [ResponseStore.Action] = []
        /// Host actions done or, in a dry run, recorded: their timeline lines.
        var host: [String] = []

        var isEmpty: Bool { actions.isEmpty && host.isEmpty }
    }

    /// Applies the policy of `alert`'s rule, if it has one that is on. Returns what was done
    /// (dry runs included).
    @discardableResult
    func respond(to alert: SecurityAlert, incident: String?) async -> Taken {
        let db = database()
        guard let sql = db as? any SQLDatabase else { return Taken() }
        do {
            guard let stored = try await ResponsePolicyStore(database: sql).find(alert.rule), stored.policy.enabled else { return Taken() }
            let policy = stored.policy
            let store = ResponseStore(database: db, sessions: sessions, clock: clock)
            let dry = dryRun || policy.dryRun
            var result = Taken()
            result.host = try await respondOnHost(policy.hostActions, to: alert, incident: incident, dryRun: dry, on: sql)
            var taken: [ResponseStore.Action] = []
            for kind in policy.actions {
                for target in try await targets(of: kind, for: alert, on: sql) {
                    var minutes = policy.minutes
                    if policy.escalation > 1 {
                        let since = Timestamp(microseconds: clock().microseconds &- Int64(ResponsePolicy.memoryDays) * 86_400_000_000)
                        minutes = policy.duration(previous: try await store.previous(kind, of: target, since: since))
                    }
                    let reason = "\(alert.rule) \(alert.title) (\(alert.eventCount) events, alert \(alert.id))"
                    do {
                        let action = try await store.apply(kind, target: target, minutes: minutes, reason: reason, incident: incident,
                                                           rate: policy.ratePerMinute,
                                                           origin: .automatic(rule: alert.rule, alertID: alert.id, adminSessionsBefore: alert.firstTime,
                                                                              sources: alert.entities.filter { $0.kind == .ip }.map(\.value)),
                                                           dryRun: dry, by: .secmon)
                        taken.append(action)
                    } catch let refusal as IncidentRefusal {
                        try await store.recordSkipped(kind, target: target, why: refusal.reason, rule: alert.rule, incident: incident)
                    }
                }
            }
            if taken.contains(where: { !$0.dryRun }) { await responses.reload() }
            result.actions = taken
            return result
        } catch {
            logger.error("automatic response failed", metadata: ["rule": "\(alert.rule)", "alert": "\(alert.id)", "error": "\(String(reflecting: error))"])
            return Taken()
        }
    }

    /// What `kind` applies to for `alert`: its addresses, or for a lock its users, else the
    /// accounts that logged in from its addresses while it lasted (a success after failures).
    func targets(of kind: ResponseKind, for alert: SecurityAlert, on sql: any SQLDatabase) async throws -> [String] {
        let addresses = Array(Set(alert.entities.filter { $0.kind == .ip && IPAddress($0.value) != nil }.map(\.value))).sorted()
        let users = Array(Set(alert.entities.filter { $0.kind == .user && $0.value != ActivityEvent.anonymous }.map(\.value))).sorted()
        switch kind {
        case .block, .rateLimit:
            return addresses
        case .watch:
            return addresses + users.map { "user:" + $0 }
        case .lock:
            if !users.isEmpty { return users }
            guard !addresses.isEmpty else { return [] }
            // Sessions opened from the addresses during the alert (seconds), and logins the events table has.
            let from = alert.firstTime.microseconds / 1_000_000 - 1
            let to = clock().microseconds / 1_000_000 + 1
            var names = Set<String>()
            for row in try await sql.raw("""
                SELECT DISTINCT u.username FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.ip_address IN (\(binds: addresses)) AND s.created_at >= \(bind: from) AND s.created_at <= \(bind: to)
                """).all() {
                names.insert(try row.decode(column: "username", as: String.self))
            }
            for row in try await sql.raw("""
                SELECT DISTINCT username FROM events WHERE action = 'LOGIN_SUCCESS' AND ip_address IN (\(binds: addresses))
                  AND ts >= \(bind: alert.firstTime.microseconds) AND ts <= \(bind: alert.lastTime.microseconds)
                """).all() {
                names.insert(try row.decode(column: "username", as: String.self))
            }
            return names.sorted()
        case .allow:
            return []
        }
    }
}
