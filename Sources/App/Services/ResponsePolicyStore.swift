import ActiveResponse
import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit

/// The `response_policies` table: what SecMon does by itself when a rule fires, one row per rule,
/// edited by administrators with a version check and an audit row. The bundled policies are
/// written at the first start (an administrator's edits are never overwritten); a rule without a
/// row has no automatic response.
public struct ResponsePolicyStore: Sendable {
    public static let table = "response_policies"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One stored policy.
    public struct Stored: Sendable, Hashable {
        public var policy: ResponsePolicy
        public var version: Int
        public var updatedBy: String
        public var updated: Timestamp
    }

    /// Writes the bundled policies that are missing. Returns how many were added.
    @discardableResult
    public func seed(_ policies: [ResponsePolicy] = BundledResponsePolicies.all, at now: Timestamp = .now()) async throws -> Int {
        var added = 0
        for policy in policies {
            let row = try await database.raw("""
                INSERT INTO response_policies (rule, actions, minutes, escalation, max_minutes, rate, dry_run, enabled, version, updated_by, updated_ts)
                VALUES (\(bind: policy.rule), \(bind: Self.actionsText(policy)), \(bind: Int64(policy.minutes)), \(bind: Int64(policy.escalation)),
                        \(bind: Int64(policy.maxMinutes)), \(bind: Int64(policy.ratePerMinute)), \(bind: policy.dryRun), \(bind: policy.enabled),
                        1, 'secmon', \(bind: now.microseconds))
                ON CONFLICT DO NOTHING RETURNING rule
                """).first()
            if row != nil {
                added += 1
                try await AuditTrail.record(.init(time: now, actor: .secmon, action: "response-policy.create", target: "rule:\(policy.rule)",
                                                  after: policy.summary), on: database)
            }
        }
        return added
    }

    /// Every policy, by rule.
    public func all() async throws -> [Stored] {
        try await database.raw("SELECT * FROM response_policies ORDER BY rule").all().map(Self.stored)
    }

    /// The policy of `rule`, if it has one.
    public func find(_ rule: String) async throws -> Stored? {
        try await database.raw("SELECT * FROM response_policies WHERE rule = \(bind: rule)").first().map(Self.stored)
    }

    /// Writes `policy` (a new rule's, with `version` 0, or a change of the stored one at `version`),
    /// after validating it. Refuses a stale version, and a rule that is not loaded (`knownRules`).
    public func save(_ policy: ResponsePolicy, version: Int, knownRules: Set<String>, by actor: AuditTrail.Actor,
                     on fluent: any Database, at now: Timestamp = .now()) async throws -> Stored {
        guard policy.rule.utf8.count <= 128, knownRules.contains(policy.rule) else {
            throw IncidentRefusal(.invalid, field: "rule", "'\(policy.rule.prefix(128))' is not a loaded rule's id (see the rules page)")
        }
        try policy.validate()
        return try await fluent.sqlTransaction { sql in
            let current = try await sql.raw("SELECT * FROM response_policies WHERE rule = \(bind: policy.rule)").first().map(Self.stored)
            guard (current?.version ?? 0) == version else {
                throw IncidentRefusal(.conflict, field: "version", "someone changed this policy since you opened it (version \(current?.version ?? 0), yours \(version)); reload and try again")
            }
            let next = version + 1
            if current == nil {
                try await sql.raw("""
                    INSERT INTO response_policies (rule, actions, minutes, escalation, max_minutes, rate, dry_run, enabled, version, updated_by, updated_ts)
                    VALUES (\(bind: policy.rule), \(bind: Self.actionsText(policy)), \(bind: Int64(policy.minutes)), \(bind: Int64(policy.escalation)),
                            \(bind: Int64(policy.maxMinutes)), \(bind: Int64(policy.ratePerMinute)), \(bind: policy.dryRun), \(bind: policy.enabled),
                            \(bind: next), \(bind: actor.name), \(bind: now.microseconds))
                    """).run()
            } else {
                try await sql.raw("""
                    UPDATE response_policies SET actions = \(bind: Self.actionsText(policy)), minutes = \(bind: Int64(policy.minutes)),
                      escalation = \(bind: Int64(policy.escalation)), max_minutes = \(bind: Int64(policy.maxMinutes)), rate = \(bind: Int64(policy.ratePerMinute)),
                      dry_run = \(bind: policy.dryRun), enabled = \(bind: policy.enabled), version = \(bind: next), updated_by = \(bind: actor.name),
                      updated_ts = \(bind: now.microseconds)
                    WHERE rule = \(bind: policy.rule)
                    """).run()
            }
            try await AuditTrail.record(.init(time: now, actor: actor, action: "response-policy.update", target: "rule:\(policy.rule)",
                                              before: current?.policy.summary, after: policy.summary), on: sql)
            return Stored(policy: policy, version: next, updatedBy: actor.name, updated: now)
        }
    }

    static func actionsText(_ policy: ResponsePolicy) -> String { policy.actionNames.joined(separator: ",") }

    static func stored(_ row: any SQLRow) throws -> Stored {
        let names = try row.decode(column: "actions", as: String.self).split(separator: ",").map(String.init)
        let policy = ResponsePolicy(
            rule: try row.decode(column: "rule", as: String.self), actions: names.compactMap { ResponseKind(rawValue: $0) },
            hostActions: names.compactMap { HostAction(rawValue: $0) },
            minutes: Int(try row.decode(column: "minutes", as: Int64.self)), escalation: Int(try row.decode(column: "escalation", as: Int64.self)),
            maxMinutes: Int(try row.decode(column: "max_minutes", as: Int64.self)), ratePerMinute: Int(try row.decode(column: "rate", as: Int64.self)),
            dryRun: try row.decode(column: "dry_run", as: Bool.self), enabled: try row.decode(column: "enabled", as: Bool.self))
        return Stored(policy: policy, version: Int(try row.decode(column: "version", as: Int64.self)),
                      updatedBy: try row.decode(column: "updated_by", as: String.self),
                      updated: Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
    }
}
