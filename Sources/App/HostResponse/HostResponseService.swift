import Dispatch
import Foundation
import HostResponse
import Incidents
import SecurityModel
import SQLKit

/// The manual host responses an administrator takes from the process and file pages: terminate
/// a process (TERM, then KILL after the grace period) and quarantine or restore a file. Each
/// refuses what must never be touched and says why; with `--response-dry-run` each records what
/// it would have done and does nothing. Every attempt is audited (`host.terminate`,
/// `file.quarantine`, `file.restore`), refusals included.
public struct HostResponseService: Sendable {
    /// The quarantine and terminator with the bundled and configured allowlists; ``current()``
    /// adds the administrators' own.
    public let quarantine: Quarantine
    public let terminator: ProcessTerminator
    public let dryRun: Bool
    let database: @Sendable () -> (any SQLDatabase)?
    let audit: @Sendable (AuditTrail.Entry) async -> Void

    public init(quarantine: Quarantine, terminator: ProcessTerminator, dryRun: Bool, database: @escaping @Sendable () -> (any SQLDatabase)? = { nil },
                audit: @escaping @Sendable (AuditTrail.Entry) async -> Void) {
        self.quarantine = quarantine
        self.terminator = terminator
        self.dryRun = dryRun
        self.database = database
        self.audit = audit
    }

    /// The quarantine and terminator with every allowlist: bundled, configured, and the console's.
    public func current() async throws -> (quarantine: Quarantine, terminator: ProcessTerminator) {
        guard let sql = database() else { return (quarantine, terminator) }
        let settings = try await HostResponseSettingsStore(database: sql).settings()
        var quarantine = self.quarantine, terminator = self.terminator
        quarantine.protected += settings.paths
        terminator.allowlist += settings.processes
        return (quarantine, terminator)
    }

    /// The quarantine and terminator for `config`: SecMon's own files and directories are
    /// protected, whatever else is allowed.
    public static func make(_ config: SecMonConfig, database: @escaping @Sendable () -> (any SQLDatabase)?,
                            audit: @escaping @Sendable (AuditTrail.Entry) async -> Void) -> HostResponseService {
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        let data = absolute(config.dataDirectory)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var protected = [data + "/", absolute((config.logPath as NSString).deletingLastPathComponent) + "/",
                         absolute((config.hostLogPath as NSString).deletingLastPathComponent) + "/"]
        if !executable.isEmpty { protected.append(executable) }
        if let rules = config.rulesPath { protected.append(absolute(rules) + "/") }
        return HostResponseService(
            quarantine: Quarantine(directory: data + "/quarantine", protected: protected + config.quarantineAllowlist),
            terminator: ProcessTerminator(allowlist: ProcessTerminator.bundledAllowlist + config.processAllowlist,
                                          graceMilliseconds: config.terminateGraceMilliseconds),
            dryRun: config.responseDryRun, database: database, audit: audit)
    }

    /// Terminates the process `pid` that started at `startTicks` (as the confirmation page showed it).
    public func terminate(pid: Int32, startTicks: UInt64, name: String, by actor: AuditTrail.Actor) async throws -> ProcessTerminator.Outcome {
        let target = ProcessTerminator.Target(pid: pid, startTicks: startTicks, name: name)
        return try await terminate(pid: pid, name: name, by: actor, reason: nil, dryRun: dryRun) { terminator, dry in
            (try terminator.terminate(target, dryRun: dry), name)
        }.outcome
    }

    /// Terminates the process an alert named, for a rule's policy: only if its PID still runs
    /// the process the alert saw (``ProcessTerminator/target(alertPID:seenBy:executable:)``).
    /// Audited by `secmon` with `reason`. Answers the outcome and the process's name.
    public func terminate(alertPID pid: Int32, seenBy: Timestamp, executable: String?, dryRun: Bool,
                          reason: String) async throws -> (outcome: ProcessTerminator.Outcome, name: String) {
        try await terminate(pid: pid, name: "", by: .secmon, reason: reason, dryRun: dryRun || self.dryRun) { terminator, dry in
            guard let target = try terminator.target(alertPID: pid, seenBy: seenBy.microseconds, executable: executable) else { return (.alreadyGone, "") }
            return (try terminator.terminate(target, dryRun: dry), target.name)
        }
    }

    /// Runs `work` off the event loops with every allowlist, and audits what it did or why it refused.
    private func terminate(pid: Int32, name: String, by actor: AuditTrail.Actor, reason: String?, dryRun: Bool,
                           _ work: @escaping @Sendable (ProcessTerminator, Bool) throws -> (ProcessTerminator.Outcome, String))
        async throws -> (outcome: ProcessTerminator.Outcome, name: String) {
        let terminator = try await current().terminator
        let why = reason.map { "; \($0)" } ?? ""
        do {
            let (outcome, found) = try await BlockingWork.run { try work(terminator, dryRun) }
            let label = found.isEmpty ? name : found
            await audit(.init(actor: actor, action: "host.terminate", target: "process:\(pid) \(label.prefix(64))", after: outcome.summary + why))
            return (outcome, label)
        } catch let refusal as ProcessTerminator.Refusal {
            await audit(.init(actor: actor, action: "host.terminate", target: "process:\(pid) \(name.prefix(64))", after: "refused: \(refusal.description)\(why)"))
            throw IncidentRefusal(.invalid, field: "pid", refusal.description)
        }
    }

    /// Moves the file at `path` into quarantine (or, in a dry run, checks it and says what would
    /// happen). An `automatic` one (a rule's policy, with its `reason`, which the record keeps)
    /// never takes a file in the system's directories (``Quarantine/systemDirectories``).
    public func quarantine(_ path: String, by actor: AuditTrail.Actor, reason: String? = nil, automatic: Bool = false,
                           dryRun: Bool = false) async throws -> Quarantine.Record? {
        let quarantine = try await current().quarantine
        let why = reason.map { "; \($0)" } ?? ""
        do {
            if dryRun || self.dryRun {
                try quarantine.check(path, automatic: automatic)
                await audit(.init(actor: actor, action: "file.quarantine", target: "file:\(path.prefix(512))", after: "would have quarantined it (dry run)" + why))
                return nil
            }
            let record = try await BlockingWork.run { try quarantine.quarantine(path, by: actor.name, reason: reason, automatic: automatic) }
            await audit(.init(actor: actor, action: "file.quarantine", target: "file:\(record.path.prefix(512))",
                              after: "quarantined as \(record.id): sha256 \(record.sha256), \(record.size) bytes, mode \(String(record.mode, radix: 8)), owner \(record.uid):\(record.gid)" + why))
            return record
        } catch let refusal as Quarantine.Refusal {
            await audit(.init(actor: actor, action: "file.quarantine", target: "file:\(path.prefix(512))", after: "refused: \(refusal.description)\(why)"))
            throw IncidentRefusal(.invalid, field: "path", refusal.description)
        }
    }

    /// Puts the quarantined file `id` back.
    public func restore(_ id: String, by actor: AuditTrail.Actor) async throws -> Quarantine.Record {
        guard let record = quarantine.records().first(where: { $0.id == id }) else {
            throw IncidentRefusal(.notFound, field: "id", "there is no quarantined file \(id.prefix(64))")
        }
        let quarantine = self.quarantine
        do {
            try await BlockingWork.run { try quarantine.restore(record) }
            await audit(.init(actor: actor, action: "file.restore", target: "file:\(record.path.prefix(512))", after: "restored from \(record.id), sha256 \(record.sha256)"))
            return record
        } catch let refusal as Quarantine.Refusal {
            await audit(.init(actor: actor, action: "file.restore", target: "file:\(record.path.prefix(512))", after: "refused: \(refusal.description)"))
            throw IncidentRefusal(.invalid, field: "id", refusal.description)
        }
    }
}
