import Logging
import SQLKit

/// Writes audit rows for actions that are not database transactions of their own (a login, a
/// rule reload). Changes that are transactions (incidents, playbooks) write their row inside
/// them with ``AuditTrail/record(_:on:)``.
public struct Auditor: Sendable {
    let database: @Sendable () -> (any SQLDatabase)?
    let logger: Logger

    /// Appends `entry`; a failure is logged as an error (the action has happened already).
    public func record(_ entry: AuditTrail.Entry) async {
        guard let sql = database() else { return }
        do {
            try await AuditTrail.record(entry, on: sql)
        } catch {
            logger.error("could not write an audit row", metadata: ["action": "\(entry.action)", "target": "\(entry.target)", "error": "\(String(reflecting: error))"])
        }
    }
}
