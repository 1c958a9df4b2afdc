import AsyncHTTPClient
import Foundation
import Incidents
import Logging
import NIOCore
import NIOHTTP1
import SecurityModel
import ServiceLifecycle
import Synchronization

/// Tells people of new incidents by posting to a webhook (`--notify-webhook URL`): a Slack or
/// Mattermost incoming webhook, or any service that takes JSON. The body has `text` (one line a
/// person reads: severity, title, rule, link) and `secmon` (the incident's id, severity, rule,
/// alert, time, link) for programs.
///
/// Only incidents at or above a severity (`--notify-level`, high by default) are sent, at most
/// ``maxPerMinute`` a minute: past that they are counted and the next message says how many were
/// held back, so an attack cannot flood a phone. Delivery runs off the alert path, in its own
/// service, with a bounded queue (what it drops is counted), three tries with back-off, a 10 s
/// timeout, and no redirects.
final class WebhookNotifier: Service, Sendable {
    /// Where and what to send.
    struct Settings: Sendable, Equatable {
        var url: String
        var minimum: IncidentSeverity
        /// The console's address for links (`https://secmon.example.net`); nil: no link.
        var consoleURL: String?

        /// Checks `url`: HTTPS anywhere, plain HTTP only to a loopback address (a local relay, the tests).
        init(url: String, minimum: IncidentSeverity = .high, consoleURL: String? = nil) throws(StartupError) {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host, !host.isEmpty else {
                throw StartupError("--notify-webhook: '\(url.prefix(120))' is not a URL such as https://hooks.slack.com/services/…")
            }
            let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1"
            guard scheme == "https" || (scheme == "http" && loopback) else {
                throw StartupError("--notify-webhook: \(url.prefix(120)) must use https (plain http only to a loopback address): incident titles travel in it")
            }
            self.url = url
            self.minimum = minimum
            self.consoleURL = consoleURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        }

        /// The URL as shown on pages: its scheme, host and port, the rest (often a secret token) hidden.
        var shown: String {
            guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "(hidden)" }
            return "\(scheme)://\(host)\(parsed.port.map { ":\($0)" } ?? "")/…"
        }
    }

    /// One incident to tell of.
    struct Notice: Sendable, Equatable {
        var incident: String
        var title: String
        var severity: IncidentSeverity
        var rule: String
        var alert: String
        var time: Timestamp
    }

    /// What was sent, for the export page.
    struct Statistics: Sendable, Equatable {
        var sent = 0
        var failed = 0
        /// Over the per-minute limit: told as a count in the next message.
        var heldBack = 0
        /// The queue was full.
        var dropped = 0
        var lastSent: Timestamp?
        var lastError: String?
    }

    /// Most messages a minute.
    static let maxPerMinute = 10
    /// Most notices waiting.
    static let queueLimit = 200

    let settings: Settings
    private let http: HTTPClient
    private let logger: Logger
    private let state = Mutex<(queue: [Notice], stats: Statistics, sentTimes: [Int64], heldSinceLast: Int)>(([], Statistics(), [], 0))
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    init(settings: Settings, http: HTTPClient, logger: Logger) {
        self.settings = settings
        self.http = http
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var statistics: Statistics { state.withLock { $0.stats } }

    /// Queues a notice of a new incident, if its severity is at or above the minimum.
    func incidentOpened(_ notice: Notice) {
        guard notice.severity >= settings.minimum else { return }
        let queued = state.withLock { state -> Bool in
            guard state.queue.count < Self.queueLimit else {
                state.stats.dropped += 1
                return false
            }
            state.queue.append(notice)
            return true
        }
        if queued { wake.yield() }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            for await _ in wakes {
                while let notice = next() { await deliver(notice) }
            }
        }
    }

    /// Sends a test message now.
    func sendTest(by actor: String) async throws {
        try await post(body(text: "SecMon test notification, sent by \(actor): notifications reach this channel.", notice: nil, heldBack: 0))
    }

    /// The next notice, unless this minute's messages are used up (it is then counted as held back).
    private func next() -> Notice? {
        let now = Timestamp.now().microseconds
        return state.withLock { state -> Notice? in
            guard !state.queue.isEmpty else { return nil }
            let notice = state.queue.removeFirst()
            state.sentTimes.removeAll { now - $0 >= 60_000_000 }
            guard state.sentTimes.count < Self.maxPerMinute else {
                // This one and all queued behind it are held back; the next message counts them.
                let held = 1 + state.queue.count
                state.queue.removeAll()
                state.stats.heldBack += held
                state.heldSinceLast += held
                return nil
            }
            state.sentTimes.append(now)
            return notice
        }
    }

    private func deliver(_ notice: Notice) async {
        let held = state.withLock { state -> Int in
            defer { state.heldSinceLast = 0 }
            return state.heldSinceLast
        }
        var text = "[\(notice.severity.rawValue.uppercased())] \(notice.title) (rule \(notice.rule))"
        if let link = link(notice.incident) { text += " \(link)" }
        if held > 0 { text += " (\(held) more incident(s) were not sent: at most \(Self.maxPerMinute) a minute; see the console)" }
        let payload = body(text: text, notice: notice, heldBack: held)
        for attempt in 1...3 {
            do {
                try await post(payload)
                return
            } catch {
                logger.warning("webhook notification failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                if attempt < 3 { try? await Task.sleep(for: .seconds(Double(attempt * attempt))) }
            }
        }
    }

    private func link(_ incident: String) -> String? {
        settings.consoleURL.map { "\($0)/incidents/\(incident)" }
    }

    private func body(text: String, notice: Notice?, heldBack: Int) -> [UInt8] {
        struct Payload: Encodable {
            struct Detail: Encodable {
                var incident: String
                var severity: String
                var title: String
                var rule: String
                var alert: String
                var time: String
                var url: String?
                var held_back: Int
            }
            var text: String
            var secmon: Detail?
        }
        let detail = notice.map {
            Payload.Detail(incident: $0.incident, severity: $0.severity.rawValue, title: $0.title, rule: $0.rule, alert: $0.alert,
                           time: $0.time.iso8601 + "Z", url: link($0.incident), held_back: heldBack)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Payload(text: text, secmon: detail))) ?? Data())
    }

    private func post(_ body: [UInt8]) async throws {
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "SecMon")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(response.status.code) else {
                throw NotifyFailure(description: "the webhook answered \(response.status.code) \(response.status.reasonPhrase)")
            }
            state.withLock {
                $0.stats.sent += 1
                $0.stats.lastSent = .now()
                $0.stats.lastError = nil
            }
        } catch {
            state.withLock {
                $0.stats.failed += 1
                $0.stats.lastError = "\(Timestamp.now().iso8601)Z: \(error)"
            }
            throw error
        }
    }

    struct NotifyFailure: Error, CustomStringConvertible {
        var description: String
    }
}
