import HostResponse
import HostSensors
import Incidents
import SecurityModel
import Vapor

/// Manual host response (administrators): terminate a process from the process list (a
/// confirmation page names the process, and what would refuse it, before anything is sent), and
/// the quarantine: put a file in by path, see what is there, restore it. Every step is audited.
struct HostResponseController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "host", "processes", ":pid", "terminate", access: .role(.admin), use: confirmTerminate)
        routes.secured(.POST, "host", "processes", ":pid", "terminate", access: .role(.admin), use: terminate)
        routes.secured(.GET, "files", "quarantine", access: .role(.admin), use: quarantinePage)
        routes.secured(.POST, "files", "quarantine", access: .role(.admin), use: quarantine)
        routes.secured(.POST, "files", "quarantine", ":id", "restore", access: .role(.admin), use: restore)
        routes.secured(.POST, "files", "quarantine", "settings", access: .role(.admin), use: saveSettings)
    }

    // MARK: terminate

    struct TerminateContext: Encodable {
        var title = "Terminate a process"
        var user: LayoutUser
        var pid: Int32
        var name: String
        var startTicks: String
        var commandLine: String
        var owner: String
        var refusal: String?
        var outcome: String?
        var error: String?
        var graceSeconds: String
        var dryRun: Bool
        var gone: Bool
    }

    func pid(_ request: Request) throws -> Int32 {
        guard let text = request.parameters.get("pid"), let pid = Int32(text), pid > 0 else {
            throw IncidentRefusal(.invalid, field: "pid", "a process id is a positive number")
        }
        return pid
    }

    @Sendable func confirmTerminate(_ request: Request) async throws -> Response {
        try await renderTerminate(request, pid: try pid(request))
    }

    struct TerminateForm: Content { var start_ticks: String? }

    @Sendable func terminate(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let pid = try pid(request)
        let form = try request.content.decode(TerminateForm.self)
        guard let ticks = UInt64(form.start_ticks ?? "") else {
            return try await renderTerminate(request, pid: pid, status: .badRequest, error: "Not sent: open the confirmation page from the process list (the process's start time is missing).")
        }
        let service = request.secmon.hostResponse
        let name = service.terminator.target(pid).map(\.name) ?? "?"
        do {
            let outcome = try await service.terminate(pid: pid, startTicks: ticks, name: name, by: request.actor(principal))
            return try await renderTerminate(request, pid: pid, outcome: "PID \(pid) (\(name)) \(outcome.summary).")
        } catch let refusal as IncidentRefusal {
            return try await renderTerminate(request, pid: pid, status: refusal.httpStatus, error: "Refused: \(refusal.reason).")
        }
    }

    private func renderTerminate(_ request: Request, pid: Int32, status: HTTPResponseStatus = .ok, outcome: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let service = request.secmon.hostResponse
        let terminator = try await service.current().terminator
        let target = terminator.target(pid)
        let process = request.secmon.host?.monitor.latest?.processes.first { $0.pid == pid }
        var refusal: String?
        if let target {
            do { try terminator.check(target) } catch { refusal = error.description }
        }
        let context = TerminateContext(
            user: LayoutUser(principal), pid: pid, name: target?.name ?? process?.name ?? "", startTicks: target.map { String($0.startTicks) } ?? "",
            commandLine: process?.commandLine ?? "", owner: process?.user ?? "", refusal: refusal, outcome: outcome, error: error,
            graceSeconds: String(format: "%.1f", Double(service.terminator.graceMilliseconds) / 1000), dryRun: service.dryRun, gone: target == nil)
        let response = try await request.view.render("process-terminate", context).encodeResponse(for: request)
        response.status = status
        return response
    }

    // MARK: quarantine

    struct QuarantineItem: Encodable {
        var id: String
        var path: String
        var sha256: String
        var size: UInt64
        var mode: String
        var owner: String
        var modified: String
        var quarantined: String
        var by: String
        /// Why SecMon quarantined it by itself (rule, alert, incident); nil for a person's.
        var reason: String?
    }

    struct QuarantineContext: Encodable {
        var title = "Quarantine"
        var user: LayoutUser
        var items: [QuarantineItem]
        var directory: String
        var path: String
        var dryRun: Bool
        var processesText: String
        var pathsText: String
        var bundledProcesses: String
        var settingsBy: String
        var notice: String?
        var error: String?
    }

    struct SettingsForm: Content { var processes: String?; var paths: String? }

    @Sendable func saveSettings(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(SettingsForm.self)
        do {
            try await HostResponseSettingsStore(database: try request.sqlDatabase()).save(
                processes: form.processes ?? "", paths: form.paths ?? "", by: request.actor(principal), on: request.db)
        } catch let refusal as IncidentRefusal {
            return try await renderQuarantine(request, status: refusal.httpStatus, error: "Not saved: \(refusal.field): \(refusal.reason).")
        }
        return try await renderQuarantine(request, notice: "Saved: host response never touches these.")
    }

    struct QuarantineForm: Content { var path: String? }

    @Sendable func quarantinePage(_ request: Request) async throws -> Response {
        let query = try request.query.decode(QuarantineForm.self)
        return try await renderQuarantine(request, path: query.path ?? "")
    }

    @Sendable func quarantine(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let path = (try request.content.decode(QuarantineForm.self).path ?? "").trimmingCharacters(in: .whitespaces)
        do {
            if let record = try await request.secmon.hostResponse.quarantine(path, by: request.actor(principal)) {
                return try await renderQuarantine(request, notice: "\(record.path) is in quarantine (SHA-256 \(record.sha256)).")
            }
            return try await renderQuarantine(request, path: path, notice: "Dry run: \(path) would have been quarantined; nothing was moved.")
        } catch let refusal as IncidentRefusal {
            return try await renderQuarantine(request, status: refusal.httpStatus, path: path, error: "Not quarantined: \(refusal.reason).")
        }
    }

    @Sendable func restore(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = request.parameters.get("id") ?? ""
        do {
            let record = try await request.secmon.hostResponse.restore(id, by: request.actor(principal))
            return try await renderQuarantine(request, notice: "\(record.path) is restored, with its owner, mode and time.")
        } catch let refusal as IncidentRefusal {
            return try await renderQuarantine(request, status: refusal.httpStatus, error: "Not restored: \(refusal.reason).")
        }
    }

    private func renderQuarantine(_ request: Request, status: HTTPResponseStatus = .ok, path: String = "", notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let service = request.secmon.hostResponse
        let items = service.quarantine.records().sorted { $0.quarantinedAt > $1.quarantinedAt }.map { record in
            QuarantineItem(id: record.id, path: record.path, sha256: record.sha256, size: record.size, mode: String(record.mode, radix: 8),
                           owner: "\(record.uid):\(record.gid)",
                           modified: FormValues.display(Timestamp(microseconds: record.mtimeSeconds.multipliedReportingOverflow(by: 1_000_000).partialValue)),
                           quarantined: FormValues.display(Timestamp(microseconds: record.quarantinedAt.multipliedReportingOverflow(by: 1_000_000).partialValue)),
                           by: record.by, reason: record.reason)
        }
        let settings = try await HostResponseSettingsStore(database: try request.sqlDatabase()).settings()
        let context = QuarantineContext(user: LayoutUser(principal), items: items, directory: service.quarantine.directory, path: path,
                                        dryRun: service.dryRun, processesText: settings.processes.joined(separator: "\n"),
                                        pathsText: settings.paths.joined(separator: "\n"),
                                        bundledProcesses: service.terminator.allowlist.joined(separator: ", "),
                                        settingsBy: settings.updatedBy.map { "changed by \($0) at \(FormValues.display(settings.updated)) UTC" } ?? "never changed",
                                        notice: notice, error: error)
        let response = try await request.view.render("files-quarantine", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
