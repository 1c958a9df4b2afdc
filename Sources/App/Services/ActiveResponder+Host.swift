import ActiveResponse
import Foundation
import HostResponse
import Incidents
import SecurityModel
import SQLKit

extension ActiveResponder {
    /// Most processes or files one host action takes for one alert.
    static let maxHostTargets = 16

    /// Carries out a policy's host actions for `alert`: terminate each process it names (a PID
    /// that still runs the process the alert saw) and quarantine each file it names (an absolute
    /// path outside the system's directories). Every outcome, refusals included, goes on the
    /// incident's timeline; ``HostResponseService`` audits each attempt. Answers the lines of what
    /// was done (or, in a dry run, would have been).
    func respondOnHost(_ actions: [HostAction], to alert: SecurityAlert, incident: String?, dryRun: Bool,
                       on sql: any SQLDatabase) async throws -> [String] {
        guard !actions.isEmpty else { return [] }
        let policyOf = "policy of \(alert.rule)"
        let reason = "\(alert.rule) \(alert.title) (alert \(alert.id)\(incident.map { ", incident \($0)" } ?? ""))"
        var done: [String] = []
        for action in actions {
            let named = alert.entities.filter { $0.kind == (action == .terminate ? .process : .file) }.map(\.value)
            guard !named.isEmpty else {
                try await note("Did not \(action.rawValue) (\(policyOf)): the alert names no \(action == .terminate ? "process" : "file")",
                               incident: incident, audit: true, on: sql)
                continue
            }
            guard let host else {
                try await note("Did not \(action.rawValue) \(named.joined(separator: ", ").prefix(200)) (\(policyOf)): host response is not available on this node",
                               incident: incident, audit: true, on: sql)
                continue
            }
            for value in named.prefix(Self.maxHostTargets) {
                let line: String?
                switch action {
                case .terminate: line = try await terminate(value, for: alert, host: host, dryRun: dryRun, reason: reason, policyOf: policyOf, incident: incident, on: sql)
                case .quarantine: line = try await quarantine(value, host: host, dryRun: dryRun, reason: reason, policyOf: policyOf, incident: incident, on: sql)
                }
                if let line { done.append(line) }
            }
        }
        return done
    }

    private func terminate(_ value: String, for alert: SecurityAlert, host: HostResponseService, dryRun: Bool, reason: String, policyOf: String,
                           incident: String?, on sql: any SQLDatabase) async throws -> String? {
        guard let pid = Int32(value), pid > 0 else {
            try await note("Did not terminate '\(value.prefix(80))' (\(policyOf)): not a process id", incident: incident, audit: true, on: sql)
            return nil
        }
        // A process-start alert names the executable too: the PID must still run it.
        let processes = alert.entities.filter { $0.kind == .process }, files = alert.entities.filter { $0.kind == .file }
        let executable = processes.count == 1 && files.count == 1 && files[0].value.hasPrefix("/") ? files[0].value : nil
        do {
            let (outcome, name) = try await host.terminate(alertPID: pid, seenBy: alert.lastTime, executable: executable, dryRun: dryRun, reason: reason)
            let process = "process \(pid)" + (name.isEmpty ? "" : " (\(name))")
            switch outcome {
            case .alreadyGone:
                try await note("Did not terminate \(process) (\(policyOf)): it had already exited", incident: incident, on: sql)
                return nil
            case .wouldTerminate:
                let line = "Would have terminated \(process) (\(policyOf), dry run)"
                try await note(line, incident: incident, on: sql)
                return line
            case .terminated, .killed:
                let line = "Terminated \(process) (\(policyOf)): \(outcome.summary)"
                try await note(line, incident: incident, on: sql)
                return line
            }
        } catch let refusal as IncidentRefusal {
            try await note("Did not terminate process \(pid) (\(policyOf)): \(refusal.reason)", incident: incident, on: sql)
            return nil
        }
    }

    private func quarantine(_ path: String, host: HostResponseService, dryRun: Bool, reason: String, policyOf: String,
                            incident: String?, on sql: any SQLDatabase) async throws -> String? {
        guard path.hasPrefix("/") else {
            try await note("Did not quarantine '\(path.prefix(200))' (\(policyOf)): not a path on this host (an uploaded file is not kept)",
                           incident: incident, audit: true, on: sql)
            return nil
        }
        do {
            guard let record = try await host.quarantine(path, by: .secmon, reason: reason, automatic: true, dryRun: dryRun) else {
                let line = "Would have quarantined \(path.prefix(512)) (\(policyOf), dry run)"
                try await note(line, incident: incident, on: sql)
                return line
            }
            let line = "Quarantined \(record.path.prefix(512)) (\(policyOf)) as \(record.id), SHA-256 \(record.sha256); restore it from Files › Quarantine"
            try await note(line, incident: incident, on: sql)
            return line
        } catch let refusal as IncidentRefusal {
            try await note("Did not quarantine \(path.prefix(512)) (\(policyOf)): \(refusal.reason)", incident: incident, on: sql)
            return nil
        }
    }

    /// Writes `line` on the incident's timeline (and, when the host service did not see the
    /// attempt, in the audit trail as `response.skipped`).
    private func note(_ line: String, incident: String?, audit: Bool = false, on sql: any SQLDatabase) async throws {
        let now = clock()
        if let incident { try await IncidentStore.addTimeline(incident, at: now, actor: "secmon", kind: "response", line, on: sql) }
        if audit {
            try await AuditTrail.record(.init(time: now, actor: .secmon, action: "response.skipped", target: "host",
                                              after: line + (incident.map { "; incident \($0)" } ?? "")), on: sql)
        }
    }
}
