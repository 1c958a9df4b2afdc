@testable import App
import Foundation
import SecurityModel
import SQLKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The security tools through the console and the API, against real servers on loopback: a
/// small DNS server answering for `secmon.test`, and TCP listeners. Targets outside loopback and
/// the allowlist are refused before a packet leaves; every use is audited; only administrators.
@Suite("Security tools", .timeLimit(.minutes(5)))
struct ToolsTests {
    /// A DNS server on a loopback UDP port, answering from a fixed zone, until stopped.
    final class LoopbackDNS: @unchecked Sendable {
        let fd: Int32
        let port: UInt16
        private let lock = NSLock()
        private var stopped = false
        private var questions: [String] = []
        private let done = DispatchSemaphore(value: 0)

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            self.fd = fd
            port = UInt16(bigEndian: address.sin_port)
            Thread.detachNewThread { [self] in serve() }
        }

        var asked: [String] { lock.withLock { questions } }

        func stop() {
            lock.withLock { stopped = true }
            done.wait()
            close(fd)
        }

        static func encode(_ name: String) -> [UInt8] {
            name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
        }

        private func serve() {
            var buffer = [UInt8](repeating: 0, count: 512)
            while !lock.withLock({ stopped }) {
                var peer = sockaddr_in()
                var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
                let got = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength) }
                }
                guard got > 12 else { continue }
                let query = Array(buffer[0..<got])
                var offset = 12
                var labels: [String] = []
                while offset < query.count, query[offset] != 0 {
                    let size = Int(query[offset])
                    guard offset + 1 + size <= query.count else { break }
                    labels.append(String(decoding: query[(offset + 1)..<(offset + 1 + size)], as: UTF8.self))
                    offset += 1 + size
                }
                guard offset + 5 <= query.count else { continue }
                let name = labels.joined(separator: ".")
                let type = UInt16(query[offset + 1]) << 8 | UInt16(query[offset + 2])
                lock.withLock { questions.append("\(type) \(name)") }
                var answers: [[UInt8]] = []
                func record(_ type: UInt16, _ data: [UInt8]) {
                    answers.append([0xC0, 12, UInt8(type >> 8), UInt8(type & 0xff), 0, 1, 0, 0, 0x0e, 0x10, UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data)
                }
                var rcode: UInt8 = 0
                switch (name, type) {
                case ("secmon.test", 1): record(1, [192, 0, 2, 7]); record(1, [192, 0, 2, 8])
                case ("secmon.test", 15): record(15, [0, 10] + Self.encode("mail.secmon.test"))
                case ("secmon.test", 16): record(16, [18] + Array("v=spf1 mx -all ok!".utf8))
                case ("7.2.0.192.in-addr.arpa", 12): record(12, Self.encode("host.secmon.test"))
                case ("secmon.test", _): break
                default: rcode = 3
                }
                var response = Array(query[0..<(offset + 5)])
                response[2] = 0x81
                response[3] = 0x80 | rcode
                response[7] = UInt8(answers.count)
                response[9] = 0
                response[11] = 0
                for answer in answers { response += answer }
                _ = withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, response, response.count, 0, $0, peerLength) }
                }
            }
            done.signal()
        }
    }

    /// A TCP listener on loopback that greets each connection with `banner`, then closes it.
    final class Greeter: @unchecked Sendable {
        let fd: Int32
        let port: UInt16

        init(banner: String) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard bound == 0, listen(fd, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            self.fd = fd
            port = UInt16(bigEndian: address.sin_port)
            let listener = fd
            Thread.detachNewThread {
                while true {
                    let client = accept(listener, nil, nil)
                    if client < 0 { return }
                    _ = banner.withCString { send(client, $0, strlen($0), 0) }
                    usleep(200_000)
                    close(client)
                }
            }
        }

        func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    /// A loopback port with nothing listening.
    static func closedPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }

    @Test("DNS lookup, port check and URL analysis on the page and the API, audited; refusals say why", arguments: TestDatabase.all)
    func tools(db: TestDatabase) async throws {
        let dns = try LoopbackDNS()
        defer { dns.stop() }
        let greeter = try Greeter(banner: "SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
        defer { greeter.stop() }
        try await SecMonHarness.with(db, adjust: { $0.dnsServer = IPAddress("127.0.0.1"); $0.dnsPort = dns.port }) { h in
            let admin = try await h.loggedIn(as: .admin)

            // DNS: A with two records, MX, TXT, PTR from an address, NXDOMAIN, and names refused before anything is sent.
            let a = try await admin.postForm("/tools/dns", ["name": "SECMON.test", "type": "A"])
            #expect(a.status == .ok && a.body.contains("192.0.2.7") && a.body.contains("192.0.2.8") && a.body.contains("NOERROR"), "\(a.body.prefix(300))")
            let mx = try await admin.postForm("/tools/dns", ["name": "secmon.test", "type": "MX"])
            #expect(mx.body.contains("10 mail.secmon.test"))
            let txt = try await admin.postForm("/tools/dns", ["name": "secmon.test", "type": "TXT"])
            #expect(txt.body.contains("v=spf1 mx -all ok!"))
            let ptr = try await admin.postForm("/tools/dns", ["name": "192.0.2.7", "type": "PTR"])
            #expect(ptr.body.contains("host.secmon.test") && ptr.body.contains("7.2.0.192.in-addr.arpa"))
            let missing = try await admin.postForm("/tools/dns", ["name": "nothing.secmon.example", "type": "A"])
            #expect(missing.status == .ok && missing.body.contains("NXDOMAIN"))
            let asked = dns.asked.count
            let bad = try await admin.postForm("/tools/dns", ["name": "evil.com;reboot", "type": "A"])
            #expect(bad.status == .badRequest && bad.body.contains("holds characters a name cannot"))
            let wrongType = try await admin.postForm("/tools/dns", ["name": "192.0.2.7", "type": "A"])
            #expect(wrongType.status == .badRequest && wrongType.body.contains("choose PTR"))
            #expect(dns.asked.count == asked, "a refused name is never asked")
            #expect(dns.asked.contains("1 secmon.test") && dns.asked.contains("12 7.2.0.192.in-addr.arpa"))

            // Port check: open with the greeting, closed, and a target outside loopback refused unsent.
            let open = try await admin.postForm("/tools/port", ["host": "127.0.0.1", "port": "\(greeter.port)"])
            #expect(open.status == .ok && open.body.contains("state-open") && open.body.contains("SSH-2.0-OpenSSH_9.2p1 Debian"), "\(open.body.prefix(400))")
            let closed = try await admin.postForm("/tools/port", ["host": "localhost", "port": "\(Self.closedPort())"])
            #expect(closed.body.contains("state-closed"))
            let outside = try await admin.postForm("/tools/port", ["host": "192.0.2.10", "port": "22"])
            #expect(outside.status == .badRequest && outside.body.contains("neither loopback nor allowlisted"))
            let badPort = try await admin.postForm("/tools/port", ["host": "127.0.0.1", "port": "70000"])
            #expect(badPort.status == .badRequest && badPort.body.contains("1 to 65535"))

            // URL analysis.
            let url = try await admin.postForm("/tools/url", ["url": "https://xn--80ak6aa92e.com/login"])
            #expect(url.status == .ok && url.body.contains("verdict-malicious") && url.body.contains("аррӏе.com") && url.body.contains("imitates apple.com"))
            let notURL = try await admin.postForm("/tools/url", ["url": "apple.com/login"])
            #expect(notURL.status == .badRequest && notURL.body.contains("no scheme"))

            // Settings: a bad line is named; an organisation's domain is then watched.
            let refused = try await admin.postForm("/tools/settings", ["targets": "192.0.2.0/24\nnot a host!", "watched_domains": ""])
            #expect(refused.status == .badRequest && refused.body.contains("line 2"))
            let saved = try await admin.postForm("/tools/settings", ["targets": "192.0.2.0/24", "watched_domains": "example-corp.com"])
            #expect(saved.status == .ok && saved.body.contains("Saved."))
            let own = try await admin.postForm("/tools/url", ["url": "https://examp1e-corp.com/"])
            #expect(own.body.contains("imitates example-corp.com"))

            // The API, with JSON.
            let token = try await APIv1Tests.token(h, .admin)
            let api = h.client()
            let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
            let apiDNS = try await api.send(.POST, "/api/v1/tools/dns", headers: headers, body: #"{"name":"secmon.test","type":"MX"}"#)
            let dnsRecords = try apiDNS.json()["records"] as? [[String: Any]]
            #expect(apiDNS.status == .ok && dnsRecords?.first?["data"] as? String == "10 mail.secmon.test")
            let apiPort = try await api.send(.POST, "/api/v1/tools/port", headers: headers, body: #"{"host":"127.0.0.1","port":\#(greeter.port)}"#)
            let portState = try apiPort.json()["state"] as? String
            #expect(apiPort.status == .ok && portState == "open")
            let apiURL = try await api.send(.POST, "/api/v1/tools/url", headers: headers, body: #"{"url":"http://3232235777/x.exe"}"#)
            let urlVerdict = try apiURL.json()["verdict"] as? String
            #expect(apiURL.status == .ok && urlVerdict == "suspicious")
            let apiRefused = try await api.send(.POST, "/api/v1/tools/port", headers: headers, body: #"{"host":"203.0.113.5","port":80}"#)
            #expect(apiRefused.status == .badRequest && apiRefused.headers.first(name: .contentType) == "application/problem+json")

            // Analysts do not get the tools.
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.get("/tools").status == .forbidden)

            // Every use is in the audit trail, refusals included.
            let sql = h.app.db as! any SQLDatabase
            let actions = try await sql.raw("SELECT action, after_value FROM audit_log WHERE action LIKE 'tools.%' ORDER BY seq").all()
                .map { (try $0.decode(column: "action", as: String.self), try $0.decode(column: "after_value", as: String?.self) ?? "") }
            #expect(actions.filter { $0.0 == "tools.dns" }.count == 8)
            #expect(actions.filter { $0.0 == "tools.port" }.count == 6)
            #expect(actions.contains { $0.0 == "tools.port" && $0.1.hasPrefix("refused:") })
            #expect(actions.filter { $0.0 == "tools.url" }.count == 4)
            #expect(actions.filter { $0.0 == "tools.settings" }.count == 1)
        }
    }
}
