import ActiveResponse
import Foundation
import Incidents
import SecurityModel
import SQLKit

extension ResponseStore {
    static let columns = "id, kind, target, reason, rule, alert_id, incident_id, actor, created_ts, expires_ts, undone_ts, undone_by, dry_run, rate, updated_ts"

    /// The action with `id`, or a refusal naming it.
    static func load(_ id: String, on sql: any SQLDatabase) async throws -> Action {
        guard let row = try await sql.raw("SELECT \(unsafeRaw: columns) FROM response_actions WHERE id = \(bind: id)").first() else {
            throw IncidentRefusal(.notFound, field: "id", "there is no response action \(id)")
        }
        return try action(row)
    }

    /// The action with `id`, if any.
    public func find(_ id: String) async throws -> Action? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM response_actions WHERE id = \(bind: id)").first().map(Self.action)
    }

    /// An action of `kind` in force at `now` whose target covers `target` (or is covered by it).
    static func inForce(_ kind: ResponseKind, covering target: ResponseTarget, now: Timestamp, on sql: any SQLDatabase) async throws -> Action? {
        let rows = try await sql.raw("""
            SELECT \(unsafeRaw: columns) FROM response_actions WHERE kind = \(bind: kind.rawValue) AND undone_ts IS NULL AND dry_run = \(bind: false)
              AND (expires_ts IS NULL OR expires_ts > \(bind: now.microseconds))
            """).all().map(action)
        return rows.first { existing in
            (try? ResponseTarget(parsing: existing.target, for: kind)).map { $0.overlaps(target) } ?? false
        }
    }

    /// Why `target` may not be acted on, if it may not: the built-in addresses, an allowlist entry
    /// in force, or an administrator logged in from it (with a session begun before `sessionsBefore`).
    static func allowlisted(_ target: ResponseTarget, sessionsBefore: Timestamp, now: Timestamp, on sql: any SQLDatabase) async throws -> String? {
        if let network = target.network {
            for text in builtInAllowlist {
                if let address = IPAddress(text), network.contains(address) { return "\(text) is this machine" }
            }
        }
        if let entry = try await inForce(.allow, covering: target, now: now, on: sql) {
            return "entry \(entry.id) by \(entry.actor): \(entry.reason)"
        }
        if let network = target.network {
            let seconds = now.microseconds / 1_000_000
            let rows = try await sql.raw("""
                SELECT s.ip_address, u.username FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE u.role = 'admin' AND s.expires_at > \(bind: seconds) AND s.created_at < \(bind: sessionsBefore.microseconds / 1_000_000 + 1)
                """).all()
            for row in rows {
                let ip = try row.decode(column: "ip_address", as: String.self)
                if let address = IPAddress(ip), network.contains(address) {
                    return "administrator \(try row.decode(column: "username", as: String.self)) is logged in from \(ip)"
                }
            }
        }
        return nil
    }

    /// Actions in force now of `kinds` (the response list loads these).
    public func active(_ kinds: [ResponseKind] = ResponseKind.allCases) async throws -> [Action] {
        let now = clock().microseconds
        return try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM response_actions
            WHERE kind IN (\(binds: kinds.map(\.rawValue))) AND undone_ts IS NULL AND dry_run = \(bind: false)
              AND (expires_ts IS NULL OR expires_ts > \(bind: now))
            ORDER BY created_ts DESC
            """).all().map(Self.action)
    }

    /// Blocks in force now.
    public func activeBlocks() async throws -> [Action] { try await active([.block]) }

    /// The lock in force on `username`, if any.
    public func activeLock(user username: String) async throws -> Action? {
        let now = clock().microseconds
        return try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM response_actions
            WHERE kind = 'lock' AND target = \(bind: "user:" + username) AND undone_ts IS NULL AND dry_run = \(bind: false)
              AND (expires_ts IS NULL OR expires_ts > \(bind: now))
            ORDER BY created_ts DESC
            """).first().map(Self.action)
    }

    /// Actions of `kind` on exactly `target` taken since `since` (escalation counts these; dry
    /// runs do not count).
    public func previous(_ kind: ResponseKind, of target: String, since: Timestamp) async throws -> Int {
        let row = try await sql.raw("""
            SELECT COUNT(*) AS n FROM response_actions
            WHERE kind = \(bind: kind.rawValue) AND target = \(bind: target) AND dry_run = \(bind: false) AND created_ts >= \(bind: since.microseconds)
            """).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Writes on the incident's timeline, and in the audit trail, that a policy's action was not
    /// taken, and why (the target is allowlisted, or already has one in force).
    public func recordSkipped(_ kind: ResponseKind, target: String, why: String, rule: String, incident: String?) async throws {
        let now = clock()
        let line = "Did not \(kind == .rateLimit ? "rate-limit" : kind.rawValue) \(target) (policy of \(rule)): \(why)"
        try await database.sqlTransaction { sql in
            if let incident { try await IncidentStore.addTimeline(incident, at: now, actor: "secmon", kind: "response", line, on: sql) }
            try await AuditTrail.record(.init(time: now, actor: .secmon, action: "response.skipped", target: Self.auditTarget(target),
                                              after: line + (incident.map { "; incident \($0)" } ?? "")), on: sql)
        }
    }

    /// Changes whenever an action is added, edited or undone.
    public func fingerprint() async throws -> String {
        let row = try await sql.raw("""
            SELECT COUNT(*) AS n, MAX(created_ts) AS c, MAX(undone_ts) AS u, MAX(updated_ts) AS e FROM response_actions
            """).first()
        let count = try row?.decode(column: "n", as: Int.self) ?? 0
        let created = try row?.decode(column: "c", as: Int64?.self) ?? 0
        let undone = try row?.decode(column: "u", as: Int64?.self) ?? 0
        let edited = try row?.decode(column: "e", as: Int64?.self) ?? 0
        return "\(count) \(created) \(undone) \(edited)"
    }

    /// The newest actions (in force or not), optionally of some kinds or of one incident.
    public func recent(kinds: [ResponseKind]? = nil, incident: String? = nil, limit: Int = 200) async throws -> [Action] {
        var query = try sql.select().column(SQLLiteral.all).from(Self.table)
        if let incident { query = query.where("incident_id", .equal, SQLBind(incident)) }
        if let kinds { query = query.where("kind", .in, SQLBind.group(kinds.map(\.rawValue))) }
        return try await query.orderBy("created_ts", .descending).limit(max(1, min(limit, 1000))).all().map(Self.action)
    }

    static func action(_ row: any SQLRow) throws -> Action {
        func time(_ column: String) throws -> Timestamp? { try row.decode(column: column, as: Int64?.self).map(Timestamp.init(microseconds:)) }
        return Action(id: try row.decode(column: "id", as: String.self), kind: try row.decode(column: "kind", as: String.self),
                      target: try row.decode(column: "target", as: String.self), reason: try row.decode(column: "reason", as: String.self),
                      rule: try row.decode(column: "rule", as: String?.self), alertID: try row.decode(column: "alert_id", as: String?.self),
                      incidentID: try row.decode(column: "incident_id", as: String?.self), actor: try row.decode(column: "actor", as: String.self),
                      created: Timestamp(microseconds: try row.decode(column: "created_ts", as: Int64.self)), expires: try time("expires_ts"),
                      undone: try time("undone_ts"), undoneBy: try row.decode(column: "undone_by", as: String?.self),
                      dryRun: try row.decode(column: "dry_run", as: Bool.self), rate: try row.decode(column: "rate", as: Int64?.self).map { Int($0) },
                      updated: try time("updated_ts"))
    }
}
