import Foundation
import HostResponse
import Incidents
import SecurityModel

extension HostResponseService {
    /// Terminates the process an alert named, for a rule's policy: only if its PID still runs
    /// the process the alert saw (``ProcessTerminator/target(alertPID:seenBy:executable:)``) and
    /// no refusal rule applies. Audited as `host.terminate` by `secmon` with `reason`. Answers
    /// the outcome and the process's name; a refusal is thrown as an ``IncidentRefusal`` saying why.
    public func terminate(alertPID pid: Int32, seenBy: Timestamp, executable: String?, dryRun: Bool,
                          reason: String) async throws -> (outcome: ProcessTerminator.Outcome, name: String) {
        let terminator = try await current().terminator
        let dry = dryRun || self.dryRun
        do {
            let result = try await BlockingWork.run { () throws -> (ProcessTerminator.Outcome, String) in
                guard let target = try terminator.target(alertPID: pid, seenBy: seenBy.microseconds, executable: executable) else {
                    return (.alreadyGone, "")
                }
                return (try terminator.terminate(target, dryRun: dry), target.name)
            }
            await audit(.init(actor: .secmon, action: "host.terminate", target: "process:\(pid) \(result.1.prefix(64))",
                              after: "\(result.0.summary); \(reason)"))
            return result
        } catch let refusal as ProcessTerminator.Refusal {
            await audit(.init(actor: .secmon, action: "host.terminate", target: "process:\(pid)", after: "refused: \(refusal.description); \(reason)"))
            throw IncidentRefusal(.invalid, field: "pid", refusal.description)
        }
    }

    /// Quarantines the file an alert named, for a rule's policy: as a person's quarantine, and
    /// never a file in the system's directories (``Quarantine/systemDirectories``). Audited as
    /// `file.quarantine` by `secmon` with `reason`, which the record keeps. Nil in a dry run.
    public func quarantine(alertFile path: String, dryRun: Bool, reason: String) async throws -> Quarantine.Record? {
        let quarantine = try await current().quarantine
        let dry = dryRun || self.dryRun
        do {
            if dry {
                try quarantine.check(path, automatic: true)
                await audit(.init(actor: .secmon, action: "file.quarantine", target: "file:\(path.prefix(512))", after: "would have quarantined it (dry run); \(reason)"))
                return nil
            }
            let record = try await BlockingWork.run { () throws -> Quarantine.Record in
                try quarantine.quarantine(path, by: "secmon", reason: reason, automatic: true)
            }
            await audit(.init(actor: .secmon, action: "file.quarantine", target: "file:\(record.path.prefix(512))",
                              after: "quarantined as \(record.id): sha256 \(record.sha256), \(record.size) bytes; \(reason)"))
            return record
        } catch let refusal as Quarantine.Refusal {
            await audit(.init(actor: .secmon, action: "file.quarantine", target: "file:\(path.prefix(512))", after: "refused: \(refusal.description); \(reason)"))
            throw IncidentRefusal(.invalid, field: "path", refusal.description)
        }
    }
}
