@testable import App
import Foundation
import NIOCore
import NIOPosix
import SecurityModel
import Synchronization
import Testing
import Vapor

/// The live feed: a WebSocket authenticated by the session and checked for origin, that pushes
/// alerts, incidents, events (analysts), responses and counters as they happen; refuses what it
/// must; drops a browser that does not read without slowing the others.
@Suite("Live feed", .timeLimit(.minutes(10)))
struct LiveFeedTests {
    /// A WebSocket client that keeps every message.
    final class Listener: @unchecked Sendable {
        /// The raw messages (text), parsed when read.
        let raw = Mutex<[String]>([])
        var parsed: [[String: Any]] {
            raw.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        let closed = Mutex<Bool>(false)
        private let lock = NSLock()
        private var _socket: WebSocket?
        /// Set once, by the upgrade.
        var socket: WebSocket? {
            get { lock.withLock { _socket } }
            set { lock.withLock { _socket = newValue } }
        }

        func types() -> [String] { parsed.compactMap { $0["type"] as? String } }

        func wait(_ what: String, timeout: Double = 10, until done: ([[String: Any]]) -> Bool) async throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if done(parsed) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            let types = types()
            Issue.record("timed out waiting for \(what); got \(types.count) message(s): \(Dictionary(grouping: types, by: { $0 }).mapValues(\.count))")
        }
    }

    static func connect(_ h: SecMonHarness, _ client: TestClient?, origin: String? = nil) async throws -> Listener {
        let listener = Listener()
        var headers = HTTPHeaders()
        if let session = client?.cookie("secmon_session") { headers.add(name: "Cookie", value: "secmon_session=\(session)") }
        // WebSocketKit's client sends `Host` without the port, so the matching origin has none either
        // (browsers send both with it).
        headers.add(name: "Origin", value: origin ?? "http://127.0.0.1")
        let url = h.baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/live"
        try await WebSocket.connect(to: url, headers: headers, on: MultiThreadedEventLoopGroup.singleton) { socket in
            listener.socket = socket
            socket.onText { _, text in listener.raw.withLock { $0.append(text) } }
            socket.onClose.whenComplete { _ in listener.closed.withLock { $0 = true } }
        }
        return listener
    }

    /// The status of a handshake, sent as a browser would over a plain TCP connection.
    static func handshake(_ h: SecMonHarness, cookie: String?, origin: String?, upgrade: Bool = true) async throws -> Int {
        let socket = try RawSocket(port: h.port)
        defer { socket.close() }
        var request = "GET /live HTTP/1.1\r\nHost: 127.0.0.1:\(h.port)\r\n"
        if upgrade { request += "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" }
        if let origin { request += "Origin: \(origin)\r\n" }
        if let cookie { request += "Cookie: secmon_session=\(cookie)\r\n" }
        try socket.write(request + "\r\n")
        let head = try await socket.readHead()
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        if status == 0 { Issue.record("no HTTP answer: '\(head)'") }
        return status
    }

    @Test("an analyst sees the attack as it happens: events, the alert, its incident, the block, the counters", arguments: TestDatabase.all)
    func analystFeed(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            let live = try await Self.connect(h, analyst)
            let viewer = try await Self.connect(h, try await h.loggedIn(as: .viewer))
            try await live.wait("hello") { $0.contains { $0["type"] as? String == "hello" } }
            _ = try await IncidentTests.simulator(h).run(.bruteForce)
            try await live.wait("the alert, incident, block and stats") { messages in
                let alert = messages.contains { ($0["data"] as? [String: Any])?["rule"] as? String == "D-01" && $0["type"] as? String == "alert" }
                let incident = messages.contains { $0["type"] as? String == "incident" && ($0["data"] as? [String: Any])?["change"] as? String == "created" }
                let event = messages.contains { $0["type"] as? String == "event" && ($0["data"] as? [String: Any])?["action"] as? String == "LOGIN_FAILURE" }
                let block = messages.contains { $0["type"] as? String == "responses" && (($0["data"] as? [String: Any])?["blocks"] as? Int ?? 0) >= 1 }
                let stats = messages.contains { $0["type"] as? String == "stats" }
                return alert && incident && event && block && stats
            }
            // A viewer gets the alert and the incident, never raw events nor responses.
            try await viewer.wait("the viewer's alert") { $0.contains { $0["type"] as? String == "alert" } }
            #expect(!viewer.types().contains("event") && !viewer.types().contains("responses"))
            #expect(h.app.secmon.live.statistics.connected == 2)
        }
    }

    @Test("refused: another origin, no origin, no session, not a WebSocket, past the per-user cap; a client's message closes it")
    func refusals() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.liveLimits.perUser = 2 }) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            let cookie = analyst.cookie("secmon_session")
            #expect(try await Self.handshake(h, cookie: cookie, origin: "http://evil.example") == 403)
            #expect(try await Self.handshake(h, cookie: cookie, origin: nil) == 403)
            #expect(try await Self.handshake(h, cookie: nil, origin: h.baseURL) == 303, "no session: sent to the login page, never upgraded")
            #expect(try await Self.handshake(h, cookie: cookie, origin: h.baseURL, upgrade: false) == 400)
            #expect(try await Self.handshake(h, cookie: cookie, origin: h.baseURL) == 101)
            // That connection counts against the cap until the server sees it closed: on a loaded
            // machine that took long enough for the second connect below to be refused.
            for _ in 0..<500 where h.app.secmon.live.statistics.connected > 0 { try await Task.sleep(for: .milliseconds(20)) }
            let first = try await Self.connect(h, analyst)
            _ = try await Self.connect(h, analyst)
            try await first.wait("hello") { !$0.isEmpty }
            #expect(try await Self.handshake(h, cookie: cookie, origin: h.baseURL) == 429)
            // The feed takes no messages: sending one closes the connection, with why.
            try await first.socket?.send("hello?")
            try await first.wait("the closing reason") { $0.contains { $0["type"] as? String == "closing" } }
            for _ in 0..<100 where !first.closed.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(first.closed.withLock { $0 })
            #expect(h.app.secmon.live.statistics.refusedMessages == 1)
            // The counters are on /healthz.
            let health = try await h.client().get("/healthz").json()
            let live = try #require(health["live"] as? [String: Any])
            #expect(live["refused_messages"] as? Int == 1 && live["refused"] as? Int == 1, "\(live)")
        }
    }

    @Test("a browser that never reads is dropped and counted; the others get every message")
    func slowClientDropped() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.liveLimits.maxPendingBytes = 256 * 1024 }) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            let fast = try await Self.connect(h, analyst)
            try await fast.wait("hello") { !$0.isEmpty }
            // The slow one: a real TCP connection that completes the handshake and then never reads.
            let slow = try RawSocket(port: h.port)
            defer { slow.close() }
            try slow.write("GET /live HTTP/1.1\r\nHost: 127.0.0.1:\(h.port)\r\nOrigin: \(h.baseURL)\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: secmon_session=\(analyst.cookie("secmon_session") ?? "")\r\n\r\n")
            let head = try await slow.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"), "\(head)")
            for _ in 0..<100 where h.app.secmon.live.statistics.connected < 2 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(h.app.secmon.live.statistics.connected == 2)
            // 4 MiB of messages, at the pace the reading client takes them (however loaded this
            // machine is): far more than the socket buffers (a 4 KiB receive buffer) and the 256 KiB
            // budget hold for one that does not read.
            let padding = String(repeating: "x", count: 2048)
            let before = fast.raw.withLock { $0.count }
            for chunk in 0..<32 {
                for index in 0..<64 {
                    h.app.secmon.live.publish(LiveMessage(type: "test", data: ["n": .int(chunk * 64 + index), "pad": .string(padding)]))
                }
                // Wait (a bounded while) for the reader to have this chunk before the next.
                for _ in 0..<1000 where fast.raw.withLock({ $0.count }) < before + (chunk + 1) * 64 {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            let received = fast.raw.withLock { $0.filter { $0.contains("\"type\":\"test\"") }.count }
            #expect(received == 2048)
            let stats = h.app.secmon.live.statistics
            #expect(stats.droppedSlow == 1 && stats.connected == 1)
            #expect(!fast.closed.withLock { $0 })
        }
    }
}

/// A blocking TCP client on loopback, for a peer that stops reading.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // A small receive buffer, so the server's writes back up sooner.
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw Abort(.internalServerError, reason: "connect failed: \(errno)") }
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw Abort(.internalServerError, reason: "send failed") }
    }

    /// Reads up to the end of the HTTP head (and never again), on a thread of its own: a blocking
    /// read on one of the few cooperative threads would stall the server the test talks to.
    func readHead() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try self.readHeadBlocking() }) }
        }
    }

    private func readHeadBlocking() throws -> String {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while head.count < 4096 {
            guard recv(fd, &byte, 1, 0) == 1 else { break }
            head.append(byte)
            if head.suffix(4) == [13, 10, 13, 10] { break }
        }
        return String(decoding: head, as: UTF8.self)
    }

    func close() { Glibc.close(fd) }
}
