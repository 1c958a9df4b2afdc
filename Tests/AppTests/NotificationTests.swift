@testable import App
import AsyncHTTPClient
import Foundation
import Incidents
import Logging
import SecurityModel
import Testing
import Vapor

/// Notifications: a new high incident is posted to a webhook (a receiver on a loopback port, as
/// Slack's incoming webhooks take it: `text`, plus `secmon` for programs), with a link to the
/// console; less severe ones are not; past ten a minute they are held back and counted in the
/// next message; a webhook that fails is retried and said on the export page.
@Suite("Notifications (webhook)", .timeLimit(.minutes(5)))
struct NotificationTests {
    /// What the receiver got.
    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var bodies: [[String: Any]] = []
        var failNext = 0
        func add(_ body: [String: Any]) { lock.withLock { bodies.append(body) } }
        var all: [[String: Any]] { lock.withLock { bodies } }
        func shouldFail() -> Bool { lock.withLock { if failNext > 0 { failNext -= 1; return true }; return false } }
    }

    /// Runs `body` with the URL of a webhook receiver on loopback.
    static func withReceiver(_ body: (String, Received) async throws -> Void) async throws {
        let received = Received()
        let receiver = try await Application.make(.testing)
        receiver.post("hook") { request async throws -> Response in
            if received.shouldFail() { return Response(status: .serviceUnavailable) }
            let data = Data(buffer: request.body.data ?? ByteBuffer())
            received.add((try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? ["unparsed": String(decoding: data, as: UTF8.self)])
            return Response(status: .ok, body: .init(string: "ok"))
        }
        var failure: (any Error)?
        do {
            try await receiver.server.start(address: .hostname("127.0.0.1", port: 0))
            try await body("http://127.0.0.1:\(receiver.http.server.shared.localAddress?.port ?? 0)/hook", received)
        } catch { failure = error }
        await receiver.server.shutdown()
        try? await receiver.asyncShutdown()
        if let failure { throw failure }
    }

    @Test("a brute force's high incident is posted with a link; the page shows it and sends a test")
    func incidentPosted() async throws {
        try await Self.withReceiver { url, received in
            try await SecMonHarness.with(.sqlite, adjust: { $0.notifyWebhook = url; $0.publicURL = "https://secmon.example.net/" }) { h in
                _ = try await IncidentTests.simulator(h).run(.bruteForce)
                let posted = try await HostPagesTests.eventually(15) { received.all.contains { ($0["secmon"] as? [String: Any])?["rule"] as? String == "D-01" } }
                #expect(posted)
                let message = try #require(received.all.first { ($0["secmon"] as? [String: Any])?["rule"] as? String == "D-01" })
                let detail = try #require(message["secmon"] as? [String: Any])
                let incident = try #require(detail["incident"] as? String)
                #expect(detail["severity"] as? String == "high" && detail["url"] as? String == "https://secmon.example.net/incidents/\(incident)")
                let text = try #require(message["text"] as? String)
                #expect(text.hasPrefix("[HIGH] ") && text.contains("127.0.0.2") && text.contains("https://secmon.example.net/incidents/\(incident)"), "\(text)")
                // A medium incident is below the level: not posted.
                let before = received.all.count
                h.app.secmon.notifier?.incidentOpened(.init(incident: "x", title: "medium one", severity: .medium, rule: "D-02", alert: "a", time: .now()))
                try await Task.sleep(for: .milliseconds(300))
                #expect(received.all.count == before)

                let admin = try await h.loggedIn(as: .admin)
                let page = try await admin.get("/admin/export")
                #expect(page.body.contains("http://127.0.0.1:") && page.body.contains("/…") && !page.body.contains("/hook"), "the URL's path is hidden")
                let test = try await admin.postForm("/admin/export/notify-test", [:])
                #expect(test.status == .ok && test.body.contains("A test notification went to"))
                #expect(received.all.last?["text"] as? String == "SecMon test notification, sent by admin: notifications reach this channel.")
                #expect(try await HostResponsePagesTests.audit(h, "notify.test").count == 1)
            }
        }
    }

    @Test("past ten a minute notices are held back and counted in the next message; failures are retried")
    func limits() async throws {
        try await Self.withReceiver { url, received in
            let notifier = WebhookNotifier(settings: try WebhookNotifier.Settings(url: url), http: HTTPClient.shared, logger: Logger(label: "test"))
            let running = Task { try await notifier.run() }
            defer { running.cancel() }
            received.failNext = 1
            for n in 1...14 {
                notifier.incidentOpened(.init(incident: "i\(n)", title: "incident \(n)", severity: .critical, rule: "H-06", alert: "a\(n)", time: .now()))
            }
            let sent = try await HostPagesTests.eventually(15) { notifier.statistics.sent == 10 }
            #expect(sent, "\(notifier.statistics)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(notifier.statistics.heldBack == 4 && notifier.statistics.failed == 1 && received.all.count == 10)
            #expect(received.all.first?["text"] as? String == "[CRITICAL] incident 1 (rule H-06)", "the first was retried after a 503")
        }
        #expect(throws: StartupError.self) { try WebhookNotifier.Settings(url: "http://hooks.example.net/x") }
        #expect(throws: StartupError.self) { try WebhookNotifier.Settings(url: "not a url") }
        #expect(try WebhookNotifier.Settings(url: "https://hooks.slack.com/services/T0/B0/secret").shown == "https://hooks.slack.com/…")
    }
}
