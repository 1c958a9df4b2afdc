import FileInspection
import Incidents
import SecurityModel
import Vapor

/// The console's file pages: **File integrity** (watched paths, the baseline, open changes; an
/// administrator checks now, accepts a change or the whole new state, records a new baseline and
/// edits what is watched) and the **File scanner** (upload a file, see its report, the history).
/// Analysts read both and scan; every administrative step is audited.
struct FilesController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "files", "integrity", access: .role(.analyst), use: integrityPage)
        routes.secured(.POST, "files", "integrity", "check", access: .role(.admin), use: check)
        routes.secured(.POST, "files", "integrity", "baseline", access: .role(.admin), use: baseline)
        routes.secured(.POST, "files", "integrity", "accept", access: .role(.admin), use: acceptAll)
        routes.secured(.POST, "files", "integrity", "changes", ":id", "accept", access: .role(.admin), use: accept)
        routes.secured(.POST, "files", "integrity", "settings", access: .role(.admin), use: saveSettings)
        routes.secured(.GET, "files", "scans", access: .role(.analyst), use: scansPage)
        routes.secured(.POST, "files", "scans", access: .role(.analyst), body: .stream, use: upload)
        routes.secured(.GET, "files", "scans", ":id", access: .role(.analyst), use: scanPage)
    }

    // MARK: integrity

    struct ChangeItem: Encodable {
        var id: String
        var kind: String
        var path: String
        var attributes: String
        var before: String
        var after: String
        var detected: String
        var status: String
        var resolvedBy: String
        var quarantineHref: String
    }

    struct IntegrityContext: Encodable {
        var title = "File integrity"
        var user: LayoutUser
        var paths: [String]
        var pathsText: String
        var ignoreText: String
        var settingsBy: String
        var baselineCount: Int
        var baselineAt: String
        var baselineBy: String
        var lastCheck: String
        var open: [ChangeItem]
        var resolved: [ChangeItem]
        var scheduled: String
        var notice: String?
        var error: String?
    }

    @Sendable func integrityPage(_ request: Request) async throws -> Response {
        try await renderIntegrity(request)
    }

    @Sendable func check(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let result = try await request.secmon.fileIntegrity.check(initialise: true, by: request.actor(principal))
        let notice = result.recordedBaseline
            ? "There was no baseline: it was recorded now (\(result.paths) paths, \(result.problems.count) unreadable)."
            : "Checked \(result.paths) paths in \(String(format: "%.1f", result.seconds)) s: \(result.fresh.count) new change(s), "
                + "\(result.changes.count) differing from the baseline, \(result.problems.count) unreadable."
        return try await renderIntegrity(request, notice: notice)
    }

    @Sendable func baseline(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let snapshot = try await request.secmon.fileIntegrity.baseline(by: request.actor(principal))
        return try await renderIntegrity(request, notice: "Baseline recorded: \(snapshot.states.count) paths as they are now; open changes accepted; \(snapshot.problems.count) unreadable.")
    }

    @Sendable func acceptAll(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let count = try await FileIntegrityStore(database: try request.sqlDatabase()).accept(nil, by: request.actor(principal), on: request.db)
        return try await renderIntegrity(request, notice: count == 0 ? "There were no open changes." : "Accepted \(count) change(s): their new state is the baseline.")
    }

    @Sendable func accept(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = request.parameters.get("id") ?? ""
        let store = FileIntegrityStore(database: try request.sqlDatabase())
        guard let change = try await store.change(id) else {
            return try await renderIntegrity(request, status: .notFound, error: "There is no change \(id.prefix(64)).")
        }
        guard change.status == "open" else {
            return try await renderIntegrity(request, status: .conflict, error: "The change to \(change.change.path) is \(change.status) already.")
        }
        _ = try await store.accept([id], by: request.actor(principal), on: request.db)
        return try await renderIntegrity(request, notice: "Accepted: \(change.change.kind.rawValue) \(change.change.path) is the baseline now.")
    }

    struct SettingsForm: Content {
        var paths: String?
        var ignore: String?
    }

    @Sendable func saveSettings(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(SettingsForm.self)
        let paths = (form.paths ?? "").split(whereSeparator: \.isNewline).map(String.init)
        let ignore = (form.ignore ?? "").split(whereSeparator: \.isNewline).map(String.init)
        do {
            try await FileIntegrityStore(database: try request.sqlDatabase()).saveSettings(paths: paths, ignore: ignore, by: request.actor(principal), on: request.db)
        } catch let refusal as IncidentRefusal {
            return try await renderIntegrity(request, status: refusal.httpStatus, error: "Not saved: \(refusal.field): \(refusal.reason).")
        }
        return try await renderIntegrity(request, notice: "Saved. Record a new baseline for paths added to the list; until then their files are reported as added.")
    }

    private func renderIntegrity(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let store = FileIntegrityStore(database: try request.sqlDatabase())
        let settings = try await store.settings()
        let summary = try await store.baselineSummary()
        let all = try await store.changes(openOnly: false, limit: 300)
        let last = request.secmon.fileIntegrity.lastCheck
        let interval = request.secmon.config.fileIntegrityIntervalSeconds
        let context = IntegrityContext(
            user: LayoutUser(principal), paths: settings.paths, pathsText: settings.paths.joined(separator: "\n"),
            ignoreText: settings.ignore.joined(separator: "\n"),
            settingsBy: settings.updatedBy.map { "changed by \($0) at \(FormValues.display(settings.updated)) UTC" } ?? "the defaults",
            baselineCount: summary.count, baselineAt: FormValues.display(summary.recorded), baselineBy: summary.by ?? "",
            lastCheck: last.map { "\(FormValues.display($0.at)) UTC by \($0.by): \($0.result.paths) paths in \(String(format: "%.1f", $0.result.seconds)) s, \($0.result.problems.count) unreadable"
                + ($0.result.absentRoots.isEmpty ? "" : "; not present: " + $0.result.absentRoots.joined(separator: ", ")) } ?? "none since this server started",
            open: all.filter { $0.status == "open" }.map(Self.item), resolved: all.filter { $0.status != "open" }.prefix(50).map(Self.item),
            scheduled: interval.map { "every \(Int($0 / 60)) minute(s)" } ?? "off (checks run when asked for)",
            notice: notice, error: error)
        let response = try await request.view.render("files-integrity", context).encodeResponse(for: request)
        response.status = status
        return response
    }

    static func item(_ stored: FileIntegrityStore.Change) -> ChangeItem {
        let change = stored.change
        return ChangeItem(id: stored.id, kind: change.kind.rawValue, path: change.path, attributes: change.attributes.joined(separator: ", "),
                          before: change.old.map(describe) ?? "", after: change.new.map(describe) ?? "", detected: FormValues.display(stored.detected),
                          status: stored.status, resolvedBy: stored.resolvedBy.map { "\($0) at \(FormValues.display(stored.resolved))" } ?? "",
                          quarantineHref: FormValues.link("/files/quarantine", [("path", change.path)]))
    }

    /// A state in a line: kind, mode, owner, size, start of the hash, link target.
    static func describe(_ state: FileState) -> String {
        var parts = [state.kind == .file ? "" : state.kind.rawValue, state.permissions, "\(state.uid):\(state.gid)"]
        if state.kind == .file { parts.append("\(state.size) B") }
        if let sha = state.sha256 { parts.append("sha256 " + sha.prefix(12) + "…") }
        if let link = state.linkTarget { parts.append("→ " + link) }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    // MARK: scanner

    struct ScanItem: Encodable {
        var id: String
        var time: String
        var name: String
        var verdict: String
        var type: String
        var size: String
        var sha256: String
        var summary: String
        var source: String
        var scannedBy: String
    }

    struct ScansContext: Encodable {
        var title = "File scanner"
        var user: LayoutUser
        var scans: [ScanItem]
        var maxMiB: Int
        var lists: [String]
        var yara: String
        var reputation: String
        var error: String?
    }

    @Sendable func scansPage(_ request: Request) async throws -> Response {
        try await renderScans(request)
    }

    @Sendable func upload(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let receiver = UploadReceiver(config: request.secmon.config)
        let upload: UploadReceiver.Upload
        do {
            upload = try await receiver.receive(request)
        } catch let refusal as UploadReceiver.Refusal {
            return try await renderScans(request, status: refusal.status, error: "Not scanned: \(refusal.reason).")
        }
        defer { try? FileManager.default.removeItem(atPath: upload.path) }
        let scan = try await request.secmon.fileScans.scan(path: upload.path, name: upload.name, source: "upload", user: principal.username)
        return request.redirect(to: "/files/scans/\(scan.id)", redirectType: .normal)
    }

    private func renderScans(_ request: Request, status: HTTPResponseStatus = .ok, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let sql = try request.sqlDatabase()
        let scans = try await FileScanStore(database: sql).recent(limit: 100)
        let lists = [FileIndicators.bundledList.name + " (bundled)"] + (try await IndicatorListStore(database: sql).all().map { "\($0.name) (\($0.entries.count))" })
        let context = ScansContext(
            user: LayoutUser(principal), scans: scans.map(Self.item), maxMiB: request.secmon.config.scanUploadMaxBytes >> 20, lists: lists,
            yara: request.secmon.fileScans.yaraStatus, reputation: request.secmon.fileScans.reputationStatus, error: error)
        let response = try await request.view.render("files-scans", context).encodeResponse(for: request)
        response.status = status
        return response
    }

    static func item(_ scan: FileScanStore.Scan) -> ScanItem {
        let report = scan.report
        return ScanItem(id: scan.id, time: FormValues.display(scan.time), name: scan.name, verdict: report.verdict.rawValue,
                        type: report.type.label, size: Self.size(report.size), sha256: report.digests.sha256,
                        summary: report.reasons.filter { $0.weight != .clean }.map(\.detail).joined(separator: "; "),
                        source: scan.source, scannedBy: scan.scannedBy)
    }

    static func size(_ bytes: UInt64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        if bytes < 1 << 30 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
    }

    struct Fact: Encodable { var label: String; var value: String }
    struct Reason: Encodable { var weight: String; var code: String; var detail: String }

    struct ScanContext: Encodable {
        var title: String
        var user: LayoutUser
        var scan: ScanItem
        var facts: [Fact]
        var reasons: [Reason]
        var findings: [Fact]
        var network: [String]
        var entries: [Fact]
        var entropySeries: String
    }

    @Sendable func scanPage(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = request.parameters.get("id") ?? ""
        guard let scan = try await FileScanStore(database: try request.sqlDatabase()).find(id) else {
            throw Abort(.notFound, reason: "There is no scan \(id.prefix(64)).")
        }
        let report = scan.report
        var facts = [
            Fact(label: "Type", value: report.type.label), Fact(label: "Size", value: "\(Self.size(report.size)) (\(report.size) bytes)"),
            Fact(label: "SHA-256", value: report.digests.sha256), Fact(label: "SHA-1", value: report.digests.sha1), Fact(label: "MD5", value: report.digests.md5),
            Fact(label: "Entropy", value: String(format: "%.2f bits/byte whole; blocks of %d KiB from %.2f to %.2f, %d of %d high", report.entropy.whole,
                                                 report.entropy.blockSize / 1024, report.entropy.minimum, report.entropy.maximum, report.entropy.highBlocks, report.entropy.blocks)),
            Fact(label: "YARA", value: report.yara),
            Fact(label: "Scanned", value: "\(FormValues.display(scan.time)) UTC by \(scan.scannedBy) (\(scan.source))"),
        ]
        if let elf = report.elf {
            facts.append(Fact(label: "ELF", value: "\(elf.bits)-bit \(elf.littleEndian ? "little" : "big")-endian \(elf.type), \(elf.machine), entry 0x\(String(elf.entryPoint, radix: 16)), "
                + "\(elf.programHeaders) program headers, \(elf.sectionHeaders) sections" + (elf.interpreter.map { ", interpreter \($0)" } ?? (elf.isStatic ? ", statically linked" : ""))))
        }
        if let pe = report.pe {
            facts.append(Fact(label: "PE", value: "\(pe.format) \(pe.machine), \(pe.subsystem)\(pe.isDLL ? ", DLL" : ""), entry 0x\(String(pe.entryPoint, radix: 16)), linked \(Timestamp(microseconds: Int64(pe.timestamp) * 1_000_000).iso8601)"))
            facts.append(Fact(label: "Sections", value: pe.sections.map { "\($0.name) (\($0.rawSize) B\($0.executable ? " x" : "")\($0.writable ? " w" : ""))" }.joined(separator: ", ")))
        }
        var entries: [Fact] = []
        if let zip = report.zip {
            facts.append(Fact(label: "Archive", value: "\(zip.entriesRead) of \(zip.declaredEntries) entries read; \(zip.totalCompressed) bytes compressed, \(zip.totalUncompressed) uncompressed"
                + (zip.encryptedEntries > 0 ? "; \(zip.encryptedEntries) encrypted" : "")))
            entries = zip.entries.map { Fact(label: $0.name, value: "\($0.uncompressedSize) B (\($0.compressedSize) B stored)\($0.encrypted ? ", encrypted" : "")") }
        }
        var findings = report.strings.findings.map { Fact(label: $0.category, value: "'\($0.pattern)' at byte \($0.offset): \($0.sample)") }
        if report.strings.findingsDropped > 0 {
            findings.append(Fact(label: "not listed", value: "\(report.strings.findingsDropped) more finding(s) past the report's limit"))
        }
        var network = report.strings.urls + report.strings.domains + report.strings.ipv4
        if report.strings.networkDropped > 0 { network.append("… \(report.strings.networkDropped) more past the report's limit") }
        let context = ScanContext(
            title: "Scan of \(scan.name)", user: LayoutUser(principal), scan: Self.item(scan), facts: facts,
            reasons: report.reasons.map { Reason(weight: $0.weight == .clean ? "note" : $0.weight.rawValue, code: $0.code, detail: $0.detail) },
            findings: findings, network: network, entries: entries,
            entropySeries: report.entropy.series.map { String(format: "%.1f", $0) }.joined(separator: " "))
        return try await request.view.render("files-scan", context).encodeResponse(for: request)
    }
}
