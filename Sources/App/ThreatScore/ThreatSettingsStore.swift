import EventPipeline
import Fluent
import Foundation
import Incidents
import SecurityModel
import SQLKit
import ThreatScore

/// The threat score's weights set in the console (Host › Threat score, administrators), which
/// take the place of the configured ones (`SECMON_THREAT_WEIGHTS`, or the standard framework).
/// Saving is audited (`threat.weights`).
public struct ThreatSettingsStore: Sendable {
    public static let table = "threat_settings"
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// The saved weights, with who saved them and when; nil when none were saved.
    public func weights() async throws -> (weights: ThreatWeights, by: String, at: Timestamp)? {
        guard let row = try await database.raw("SELECT * FROM threat_settings WHERE id = 1").first() else { return nil }
        let weights = ThreatWeights(system: try row.decode(column: "system", as: Double.self), process: try row.decode(column: "process", as: Double.self),
                                    network: try row.decode(column: "network", as: Double.self),
                                    fileIntegrity: try row.decode(column: "file_integrity", as: Double.self))
        return (weights, try row.decode(column: "updated_by", as: String.self), Timestamp(microseconds: try row.decode(column: "updated_ts", as: Int64.self)))
    }

    /// Saves `weights` after checking them, audited.
    /// - Throws: ``IncidentRefusal`` saying what is wrong with them.
    public func save(_ weights: ThreatWeights, by actor: AuditTrail.Actor, on fluent: any Database, at now: Timestamp = .now()) async throws {
        if let problem = weights.problem { throw IncidentRefusal(.invalid, field: "weights", problem) }
        let before = try await self.weights()?.weights
        let beforeText = Self.text(before), afterText = Self.text(weights)
        try await fluent.sqlTransaction { sql in
            try await sql.raw("DELETE FROM threat_settings WHERE id = 1").run()
            try await sql.raw("""
                INSERT INTO threat_settings (id, system, process, network, file_integrity, updated_by, updated_ts)
                VALUES (1, \(bind: weights.system), \(bind: weights.process), \(bind: weights.network), \(bind: weights.fileIntegrity),
                        \(bind: actor.name), \(bind: now.microseconds))
                """).run()
            try await AuditTrail.record(.init(time: now, actor: actor, action: "threat.weights", target: "threat:weights",
                                              before: beforeText, after: afterText), on: sql)
        }
    }

    static func text(_ weights: ThreatWeights?) -> String? {
        weights.map { "system \($0.system), process \($0.process), network \($0.network), file_integrity \($0.fileIntegrity)" }
    }
}
