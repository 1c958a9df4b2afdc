import ActiveResponse
import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The `response_actions` table: what active response did or would have done (blocks, rate
/// limits, account locks, watchlist and allowlist entries), each with why (reason, rule, alert,
/// incident), by whom, until when, and whether and by whom it was undone.
///
/// Every change is one transaction with its audit row, and with the incident's timeline line when
/// it concerns one. Everything is refused, naming the field, before anything is written: an
/// invalid target, an allowlisted one, the actor's own address or account, a duration out of
/// range, an action already in force.
public struct ResponseStore: Sendable {
    public static let table = "response_actions"

    let database: any Database
    let clock: @Sendable () -> Timestamp
    /// Ends a locked user's cached sessions on this node.
    let sessions: SessionStore?

    public init(database: any Database, sessions: SessionStore? = nil, clock: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.database = database
        self.sessions = sessions
        self.clock = clock
    }

    var sql: any SQLDatabase {
        get throws {
            guard let sql = database as? any SQLDatabase else { throw SinkUnavailable(message: "the database is not an SQL database") }
            return sql
        }
    }

    /// One action.
    public struct Action: Sendable, Hashable {
        public var id: String
        public var kind: String
        public var target: String
        public var reason: String
        public var rule: String?
        public var alertID: String?
        public var incidentID: String?
        public var actor: String
        public var created: Timestamp
        public var expires: Timestamp?
        public var undone: Timestamp?
        public var undoneBy: String?
        /// Recorded only: nothing was done.
        public var dryRun: Bool = false
        /// Requests a minute (rate limits).
        public var rate: Int?
        /// The last edit of its duration or reason.
        public var updated: Timestamp?

        /// In force at `now`: not a dry run, not undone and not expired.
        public func isActive(at now: Timestamp) -> Bool {
            !dryRun && undone == nil && (expires.map { $0.microseconds > now.microseconds } ?? true)
        }

        public var responseKind: ResponseKind? { ResponseKind(rawValue: kind) }
    }

    /// Why an action is taken, and how it is checked.
    public enum Origin: Sendable {
        /// A person, from a page or the API: their own address and account are refused.
        case manual
        /// A rule's policy, for an alert. Administrators' sessions that began before
        /// `adminSessionsBefore` (the alert's first event) put their addresses on the allowlist;
        /// a session opened during the attack does not. `sources` are the alert's addresses: an
        /// action on a user (a lock) is not taken when they came from an allowlisted address.
        case automatic(rule: String, alertID: String, adminSessionsBefore: Timestamp, sources: [String] = [])
    }

    /// Addresses that are never acted on: this machine (an administrator on the box is never
    /// locked out; `secmon simulate` attacks from other 127.x addresses and is blocked like anyone).
    public static let builtInAllowlist = ["127.0.0.1", "::1"]

    /// Takes an action. `minutes` nil means until undone (allowlist entries only); `rate` is the
    /// requests a minute a rate limit allows. A dry run is checked like a real action and
    /// recorded, and changes nothing.
    @discardableResult
    public func apply(_ kind: ResponseKind, target text: String, minutes: Int?, reason: String, incident: String? = nil,
                      rate: Int? = nil, origin: Origin = .manual, dryRun: Bool = false, by actor: AuditTrail.Actor) async throws -> Action {
        let target = try ResponseTarget(parsing: text, for: kind)
        if let minutes {
            guard ResponsePolicy.durations.contains(minutes) else {
                throw IncidentRefusal(.invalid, field: "minutes", "an action lasts 1 minute to 366 days (\(ResponsePolicy.durations.upperBound) minutes)")
            }
        } else if kind != .allow {
            throw IncidentRefusal(.invalid, field: "minutes", "say how long the \(kind.noun) lasts (1 minute to 366 days); only allowlist entries may last until undone")
        }
        let rate = kind == .rateLimit ? (rate ?? 60) : nil
        if let rate, !ResponsePolicy.rates.contains(rate) {
            throw IncidentRefusal(.invalid, field: "rate", "a rate limit allows 1 to \(ResponsePolicy.rates.upperBound) requests a minute")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            throw IncidentRefusal(.invalid, field: "reason", "say why, in 1 to 500 bytes")
        }
        if case .manual = origin {
            if let own = actor.sourceIP.flatMap(IPAddress.init), let network = target.network, network.contains(own), kind == .block || kind == .rateLimit {
                throw IncidentRefusal(.invalid, field: "target", "\(target) contains your own address \(own); this would lock you out")
            }
            if kind == .lock, target.userName == actor.name {
                throw IncidentRefusal(.invalid, field: "target", "you cannot lock your own account")
            }
        }
        let now = clock()
        let (rule, alertID, sessionsBefore, sources): (String?, String?, Timestamp, [String])
        if case .automatic(let name, let alert, let before, let from) = origin {
            (rule, alertID, sessionsBefore, sources) = (name, alert, before, from)
        } else {
            (rule, alertID, sessionsBefore, sources) = (nil, nil, now, [])
        }
        let action = Action(id: EventID.make(at: now), kind: kind.rawValue, target: target.description, reason: reason, rule: rule, alertID: alertID,
                            incidentID: incident, actor: actor.name, created: now,
                            expires: minutes.map { Timestamp(microseconds: now.microseconds &+ Int64($0) &* 60_000_000) },
                            undone: nil, undoneBy: nil, dryRun: dryRun, rate: rate, updated: nil)
        let lockedUser = try await database.sqlTransaction { sql -> String? in
            if let incident {
                guard try await IncidentStore.load(incident, on: sql) != nil else { throw IncidentStore.notFound(incident) }
            }
            if kind != .allow, let allowed = try await Self.allowlisted(target, sessionsBefore: sessionsBefore, now: now, on: sql) {
                throw IncidentRefusal(.invalid, field: "target", "\(target) is on the allowlist (\(allowed)): SecMon never takes a \(kind.noun) against it")
            }
            if target.userName != nil {
                for source in sources {
                    guard let block = CIDRBlock(source),
                          let allowed = try await Self.allowlisted(.network(block), sessionsBefore: sessionsBefore, now: now, on: sql) else { continue }
                    throw IncidentRefusal(.invalid, field: "target", "the activity came from \(source), which is on the allowlist (\(allowed))")
                }
            }
            if let existing = try await Self.inForce(kind, covering: target, now: now, on: sql) {
                throw IncidentRefusal(.conflict, field: "target",
                                      "\(existing.target) already has a \(kind.noun) in force \(Self.until(existing.expires)) (\(existing.id)); edit that one instead")
            }
            if kind == .lock, let name = target.userName {
                guard try await sql.raw("SELECT id FROM users WHERE username = \(bind: name)").first() != nil else {
                    throw IncidentRefusal(.notFound, field: "target", "there is no user '\(name)'")
                }
                if !dryRun { try await sql.raw("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = \(bind: name))").run() }
            }
            try await sql.raw("""
                INSERT INTO response_actions (id, kind, target, reason, rule, alert_id, incident_id, actor, created_ts, expires_ts, dry_run, rate)
                VALUES (\(bind: action.id), \(bind: action.kind), \(bind: action.target), \(bind: reason), \(bind: rule), \(bind: alertID),
                        \(bind: incident), \(bind: actor.name), \(bind: now.microseconds), \(bind: action.expires?.microseconds), \(bind: dryRun),
                        \(bind: rate.map(Int64.init)))
                """).run()
            let line = Self.describe(action)
            if let incident {
                try await IncidentStore.addTimeline(incident, at: now, actor: actor.name, kind: "response", line, on: sql)
            }
            try await AuditTrail.record(.init(time: now, actor: actor, action: dryRun ? "response.dry-run" : "response.\(kind.rawValue)",
                                              target: Self.auditTarget(target), after: line + (incident.map { "; incident \($0)" } ?? "")), on: sql)
            return kind == .lock && !dryRun ? target.userName : nil
        }
        if let lockedUser { sessions?.forget(username: lockedUser) }
        return action
    }

    /// Undoes an action that is still in force.
    public func undo(_ id: String, by actor: AuditTrail.Actor) async throws -> Action {
        let now = clock()
        return try await database.sqlTransaction { sql in
            let action = try await Self.load(id, on: sql)
            guard !action.dryRun else {
                throw IncidentRefusal(.conflict, field: "id", "\(action.id) was a dry run: it changed nothing, so there is nothing to undo")
            }
            guard action.undone == nil else {
                throw IncidentRefusal(.conflict, field: "id", "the \(Self.noun(action)) of \(action.target) was already undone by \(action.undoneBy ?? "someone")")
            }
            guard action.isActive(at: now) else {
                throw IncidentRefusal(.conflict, field: "id", "the \(Self.noun(action)) of \(action.target) already expired at \(FormValues.display(action.expires)) UTC")
            }
            try await sql.raw("UPDATE response_actions SET undone_ts = \(bind: now.microseconds), undone_by = \(bind: actor.name) WHERE id = \(bind: id)").run()
            let verb = action.responseKind?.undoneTense ?? "Undid \(action.kind) of"
            if let incident = action.incidentID {
                try await IncidentStore.addTimeline(incident, at: now, actor: actor.name, kind: "response", "\(verb) \(action.target)", on: sql)
            }
            try await AuditTrail.record(.init(time: now, actor: actor, action: "response.undo-\(action.kind)", target: Self.auditTarget(action.target),
                                              before: "\(Self.noun(action)) \(Self.until(action.expires))"), on: sql)
            var undone = action
            undone.undone = now
            undone.undoneBy = actor.name
            return undone
        }
    }

    /// Changes how long an action in force lasts (`minutes` from now; nil: until undone, for
    /// allowlist entries) and, when given, its reason.
    public func edit(_ id: String, minutes: Int?, reason: String?, by actor: AuditTrail.Actor) async throws -> Action {
        let now = clock()
        if let minutes, !ResponsePolicy.durations.contains(minutes) {
            throw IncidentRefusal(.invalid, field: "minutes", "an action lasts 1 minute to 366 days (\(ResponsePolicy.durations.upperBound) minutes)")
        }
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reason, reason.isEmpty || reason.utf8.count > 500 {
            throw IncidentRefusal(.invalid, field: "reason", "say why, in 1 to 500 bytes")
        }
        return try await database.sqlTransaction { sql in
            var action = try await Self.load(id, on: sql)
            guard action.isActive(at: now) else {
                throw IncidentRefusal(.conflict, field: "id", "the \(Self.noun(action)) of \(action.target) is no longer in force; take a new one")
            }
            if minutes == nil && action.kind != ResponseKind.allow.rawValue {
                throw IncidentRefusal(.invalid, field: "minutes", "say how long the \(Self.noun(action)) lasts; only allowlist entries may last until undone")
            }
            let before = Self.until(action.expires)
            action.expires = minutes.map { Timestamp(microseconds: now.microseconds &+ Int64($0) &* 60_000_000) }
            if let reason { action.reason = reason }
            action.updated = now
            try await sql.raw("""
                UPDATE response_actions SET expires_ts = \(bind: action.expires?.microseconds), reason = \(bind: action.reason),
                  updated_ts = \(bind: now.microseconds) WHERE id = \(bind: id)
                """).run()
            let line = "Changed the \(Self.noun(action)) of \(action.target): \(Self.until(action.expires)) (was \(before))"
            if let incident = action.incidentID {
                try await IncidentStore.addTimeline(incident, at: now, actor: actor.name, kind: "response", line, on: sql)
            }
            try await AuditTrail.record(.init(time: now, actor: actor, action: "response.edit-\(action.kind)", target: Self.auditTarget(action.target),
                                              before: before, after: "\(Self.until(action.expires)); \(action.reason)"), on: sql)
            return action
        }
    }

    /// "Blocked 192.0.2.7 until 2026-12-02 10:00 UTC: reason" (or "Would have blocked ... (dry run)").
    static func describe(_ action: Action) -> String {
        let kind = action.responseKind
        var verb = kind?.pastTense ?? action.kind
        if action.dryRun { verb = "Would have " + verb.lowercased() }
        var text = "\(verb) \(action.target)"
        if let rate = action.rate { text += " to \(rate) requests a minute" }
        text += " \(until(action.expires))"
        if let rule = action.rule { text += " (policy of \(rule))" }
        text += ": \(action.reason)"
        if action.dryRun { text += " (dry run: nothing was done)" }
        return text
    }

    static func noun(_ action: Action) -> String { action.responseKind?.noun ?? action.kind }

    static func until(_ expires: Timestamp?) -> String {
        expires.map { "until \(FormValues.display($0)) UTC" } ?? "until undone"
    }

    static func auditTarget(_ target: ResponseTarget) -> String {
        target.userName.map { "user:\($0)" } ?? "ip:\(target)"
    }

    static func auditTarget(_ text: String) -> String {
        text.hasPrefix("user:") ? text : "ip:\(text)"
    }
}
