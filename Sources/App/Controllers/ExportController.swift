import EventPipeline
import Incidents
import SecurityModel
import Vapor

/// Export and notifications (administrators): where alerts go (`--syslog-export`), what was sent,
/// the last error and what the alert bus holds back or dropped for it, an example of the message
/// format, and a button that sends a test message now (audited as `export.test`); the webhook told
/// of new incidents (`--notify-webhook`), its counts and a test (audited as `notify.test`).
struct ExportController {
    struct Context: Encodable {
        var title = "Export and notifications"
        var user: LayoutUser
        var configured: Bool
        var target: String?
        var sent: Int
        var lastSent: String?
        var lastError: String?
        var failures: Int
        var dropped: Int
        var queued: Int
        var example: String
        var notifyConfigured: Bool
        var notifyTarget: String?
        var notifyLevel: String
        var notifySent: Int
        var notifyFailed: Int
        var notifyHeldBack: Int
        var notifyDropped: Int
        var notifyLastSent: String?
        var notifyLastError: String?
        var notifyPerMinute: Int
        var notice: String?
        var error: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "admin", "export", access: .role(.admin), use: page)
        routes.secured(.POST, "admin", "export", "test", access: .role(.admin), use: test)
        routes.secured(.POST, "admin", "export", "notify-test", access: .role(.admin), use: notifyTest)
    }

    @Sendable func notifyTest(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let notifier = request.secmon.notifier else {
            return try await render(request, status: .conflict, error: "No webhook is configured: start SecMon with --notify-webhook https://….")
        }
        do {
            try await notifier.sendTest(by: principal.username)
            await request.secmon.auditor.record(.init(actor: request.actor(principal), action: "notify.test", target: "webhook:\(notifier.settings.shown)", after: "sent"))
            return try await render(request, notice: "A test notification went to \(notifier.settings.shown).")
        } catch {
            await request.secmon.auditor.record(.init(actor: request.actor(principal), action: "notify.test", target: "webhook:\(notifier.settings.shown)",
                                                      after: "failed: \(error)"))
            return try await render(request, status: .badGateway, error: "The test notification could not be sent to \(notifier.settings.shown): \(error).")
        }
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func test(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let sink = request.secmon.syslogExport else {
            return try await render(request, status: .conflict, error: "Nothing is configured: start SecMon with --syslog-export tcp://HOST:PORT.")
        }
        do {
            try await sink.sendTest(by: principal.username)
            await request.secmon.auditor.record(.init(actor: request.actor(principal), action: "export.test", target: "syslog:\(sink.target)", after: "sent"))
            return try await render(request, notice: "A test message went to \(sink.target): look for rule SECMON-TEST in your SIEM.")
        } catch {
            await request.secmon.auditor.record(.init(actor: request.actor(principal), action: "export.test", target: "syslog:\(sink.target)",
                                                      after: "failed: \(error)"))
            return try await render(request, status: .badGateway, error: "The test message could not be sent to \(sink.target): \(error).")
        }
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let sink = request.secmon.syslogExport
        let stats = sink?.statistics
        let bus = request.secmon.runtime.alerts?.statistics.first { $0.name == "syslog-export" }
        let now = Timestamp.now()
        let sample = SecurityAlert(id: EventID.make(at: now), rule: "D-01", title: "Brute force login (more than 3 failures from one IP in 5 minutes)",
                                   level: .high, group: [.init(field: "ip_address", value: "203.0.113.7")], entities: [Entity(.ip, "203.0.113.7")],
                                   firstTime: now.adding(seconds: -40), lastTime: now, eventCount: 6, evidence: [EventID.make(at: now)], status: .open,
                                   node: request.secmon.config.nodeName)
        let notifier = request.secmon.notifier
        let notes = notifier?.statistics
        let formatter = sink?.formatter ?? SyslogFormatter(hostname: request.secmon.config.nodeName)
        let context = Context(user: LayoutUser(principal), configured: sink != nil, target: sink.map { "\($0.target)" }, sent: stats?.sent ?? 0,
                              lastSent: stats?.lastSent.map(FormValues.display), lastError: stats?.lastError ?? bus?.lastError,
                              failures: bus?.failures ?? 0, dropped: bus?.dropped ?? 0, queued: bus?.queued ?? 0,
                              example: String(decoding: formatter.message(sample), as: UTF8.self),
                              notifyConfigured: notifier != nil, notifyTarget: notifier?.settings.shown, notifyLevel: request.secmon.config.notifyLevel.rawValue,
                              notifySent: notes?.sent ?? 0, notifyFailed: notes?.failed ?? 0, notifyHeldBack: notes?.heldBack ?? 0,
                              notifyDropped: notes?.dropped ?? 0, notifyLastSent: notes?.lastSent.map(FormValues.display), notifyLastError: notes?.lastError,
                              notifyPerMinute: WebhookNotifier.maxPerMinute, notice: notice, error: error)
        let response = try await request.view.render("export", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
