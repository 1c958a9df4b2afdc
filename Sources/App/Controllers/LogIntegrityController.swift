import EventPipeline
import SecurityModel
import Vapor

/// Log integrity (administrators): the hash chains through `logs/app.log` and `logs/host.log`, the
/// anchors the database keeps, and **Verify now**, which reads each log from its first line and
/// says whether it is intact or where it was changed (audited as `logs.verify`). The same check as
/// `secmon verify-log`.
struct LogIntegrityController {
    struct Anchor: Encodable {
        var id: String
        var sequence: UInt64
        var updated: String
    }

    struct LogItem: Encodable {
        var path: String
        var anchors: [Anchor]
        var checked: Bool
        var intact: Bool
        var summary: String?
        var problems: [String]
        var notes: [String]
    }

    struct Context: Encodable {
        var title = "Log integrity"
        var user: LayoutUser
        var chained: Bool
        var logs: [LogItem]
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "admin", "logs", access: .role(.admin), use: page)
        routes.secured(.POST, "admin", "logs", "verify", access: .role(.admin), use: verify)
    }

    @Sendable func page(_ request: Request) async throws -> View {
        try await render(request, verify: false)
    }

    @Sendable func verify(_ request: Request) async throws -> View {
        try await render(request, verify: true)
    }

    private func render(_ request: Request, verify: Bool) async throws -> View {
        let principal = try request.requirePrincipal()
        let config = request.secmon.config
        let store = LogAnchorStore(database: try request.sqlDatabase())
        var logs: [LogItem] = []
        for path in [config.logPath, config.hostLogPath] {
            let absolute = absolutePath(path)
            let anchors = try await store.anchors(path: absolute)
            var item = LogItem(path: absolute, anchors: anchors.map { Anchor(id: $0.id, sequence: $0.sequence, updated: FormValues.display($0.updated)) },
                               checked: false, intact: false, summary: nil, problems: [], notes: [])
            if verify {
                let links = anchors.map { ($0.id, $0.sequence, $0.hash) }
                do {
                    let report = try await BlockingWork.run(qos: .utility) { try LogVerification.verify(path: absolute, anchors: links) }
                    item.checked = true
                    item.intact = report.intact
                    item.summary = "\(report.lines) lines, \(report.chained) chained in \(report.chains.count) chain(s)"
                        + (report.unchained > 0 ? ", \(report.unchained) without a chain" : "") + ", \(links.count) anchor(s) checked"
                    item.problems = report.problems + (report.problemCount > report.problems.count ? ["… and \(report.problemCount - report.problems.count) more"] : [])
                    item.notes = Array(report.restarts.prefix(10))
                    await request.secmon.auditor.record(.init(actor: request.actor(principal), action: "logs.verify", target: "file:\(absolute)",
                                                              after: report.intact ? "intact: \(item.summary ?? "")" : "\(report.problemCount) problem(s): \(report.problems.first ?? "")"))
                } catch {
                    item.checked = true
                    item.problems = ["cannot be read: \(error)"]
                    await request.secmon.auditor.record(.init(actor: request.actor(principal), action: "logs.verify", target: "file:\(absolute)",
                                                              after: "cannot be read: \(error)"))
                }
            }
            logs.append(item)
        }
        return try await request.view.render("log-integrity", Context(user: LayoutUser(principal), chained: config.chainLogs, logs: logs))
    }
}
