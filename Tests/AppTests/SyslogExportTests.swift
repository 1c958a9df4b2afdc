@testable import App
import EventPipeline
import Foundation
import SecurityModel
import SQLKit
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real rsyslogd on loopback, receiving on TCP and UDP and writing what it parsed of each
/// message (PRI, host, app-name, msgid, structured data, message) to a file.
final class Rsyslog {
    let directory: String
    let tcpPort: Int
    let udpPort: Int
    private let process: ChildProcess
    var received: String { (try? String(contentsOfFile: directory + "/received.log", encoding: .utf8)) ?? "" }

    static func freePort(_ type: Int32) -> Int {
        let fd = socket(AF_INET, type, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-rsyslog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        tcpPort = Self.freePort(Int32(SOCK_STREAM.rawValue))
        udpPort = Self.freePort(Int32(SOCK_DGRAM.rawValue))
        let config = """
            global(workDirectory="\(directory)")
            module(load="imtcp")
            module(load="imudp")
            input(type="imtcp" address="127.0.0.1" port="\(tcpPort)")
            input(type="imudp" address="127.0.0.1" port="\(udpPort)")
            template(name="fields" type="string" string="%pri%|%hostname%|%app-name%|%msgid%|%structured-data%|%msg%\\n")
            *.* action(type="omfile" file="\(directory)/received.log" template="fields")
            """
        try config.write(toFile: directory + "/rsyslog.conf", atomically: true, encoding: .utf8)
        process = try ChildProcess(["/usr/sbin/rsyslogd", "-n", "-f", directory + "/rsyslog.conf", "-i", directory + "/rsyslogd.pid"])
        // Ready when it accepts a TCP connection.
        for _ in 0..<500 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(tcpPort).bigEndian
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if connected == 0 { return }
            usleep(10_000)
        }
        process.stop()
        throw SyslogTestFailure("rsyslogd did not listen on 127.0.0.1:\(tcpPort) within 5 s")
    }

    func stop() {
        kill(process.pid, SIGTERM)
        process.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct SyslogTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// SIEM export: alerts reach a real rsyslogd as RFC 5424 messages it parses (PRI from the level,
/// app-name, msgid, structured data, a JSON message), once when they open; the export page shows
/// what was sent and sends a test message; a SIEM that is down is said, and holds up nothing.
@Suite("SIEM export (syslog)", .timeLimit(.minutes(5)))
struct SyslogExportTests {
    @Test("a brute force's D-01 alert reaches rsyslog over TCP once, parsed; the page sends a test message; UDP works too")
    func rsyslog() async throws {
        let rsyslog = try Rsyslog()
        defer { rsyslog.stop() }
        try await SecMonHarness.with(.sqlite, adjust: { $0.syslogExport = "tcp://127.0.0.1:\(rsyslog.tcpPort)"; $0.nodeName = "secmon-test" }) { h in
            _ = try await IncidentTests.simulator(h).run(.bruteForce)
            let arrived = try await HostPagesTests.eventually(15) { rsyslog.received.contains("|ALERT|[secmon@32473 id=") }
            #expect(arrived, "rsyslog received: \(rsyslog.received)")
            try await Task.sleep(for: .milliseconds(500))
            let lines = rsyslog.received.split(separator: "\n").filter { $0.contains("rule=\"D-01\"") }
            #expect(lines.count == 1, "sent when it opened, not at each event: \(lines)")
            let fields = try #require(lines.first).split(separator: "|", maxSplits: 5).map(String.init)
            #expect(fields[0] == "83", "authpriv (10) × 8 + err (3) for a high alert")
            #expect(fields[2] == "secmon" && fields[3] == "ALERT")
            #expect(fields[4].contains("level=\"high\"") && fields[4].contains("status=\"open\""))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(fields[5].utf8)) as? [String: Any])
            #expect(json["rule"] as? String == "D-01" && (json["entities"] as? [String])?.contains("ip:127.0.0.2") == true)
            #expect((json["event_count"] as? Int ?? 0) >= 4)

            let admin = try await h.loggedIn(as: .admin)
            let page = try await admin.get("/admin/export")
            #expect(page.status == .ok && page.body.contains("tcp://127.0.0.1:\(rsyslog.tcpPort)") && page.body.contains("id=\"export-example\""))
            let test = try await admin.postForm("/admin/export/test", [:])
            #expect(test.status == .ok && test.body.contains("A test message went to"))
            let tested = try await HostPagesTests.eventually(10) { rsyslog.received.contains("rule=\"SECMON-TEST\"") }
            #expect(tested)
            let audit = try await HostResponsePagesTests.audit(h, "export.test")
            #expect(audit.count == 1 && audit[0].1 == "sent")
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.get("/admin/export").status == .forbidden)
        }
        // UDP: one datagram a message.
        let udp = SyslogExportSink(target: try SyslogExportSink.Target(parsing: "udp://127.0.0.1:\(rsyslog.udpPort)"), hostname: "udp-host")
        try await udp.sendTest(by: "tester")
        let overUDP = try await HostPagesTests.eventually(10) { rsyslog.received.contains("udp-host|secmon|ALERT|") }
        #expect(overUDP, "\(rsyslog.received)")
        #expect(udp.statistics.sent == 1)
    }

    @Test("a SIEM that is down: the test says why, the page shows the error, alerts are still stored")
    func unreachable() async throws {
        let closed = Rsyslog.freePort(Int32(SOCK_STREAM.rawValue))
        try await SecMonHarness.with(.sqlite, adjust: { $0.syslogExport = "tcp://127.0.0.1:\(closed)" }) { h in
            let admin = try await h.loggedIn(as: .admin)
            let test = try await admin.postForm("/admin/export/test", [:])
            #expect(test.status == .badGateway && test.body.contains("could not be sent"), "\(test.body.prefix(300))")
            let page = try await admin.get("/admin/export")
            #expect(page.body.contains("id=\"export-last-error\""))
            _ = try await IncidentTests.simulator(h).run(.bruteForce)
            let stored = try await HostPagesTests.eventually(15) {
                try await AlertStore(database: h.app.db as! any SQLDatabase).all(rule: "D-01").count > 0
            }
            #expect(stored, "the other sinks go on")
        }
    }

    @Test("targets are parsed and what is wrong is named; messages stay within 8 KiB and escape structured data")
    func format() throws {
        #expect(try SyslogExportSink.Target(parsing: "tcp://siem.example.net:514").description == "tcp://siem.example.net:514")
        #expect(try SyslogExportSink.Target(parsing: "UDP://[2001:db8::5]:5514").description == "udp://[2001:db8::5]:5514")
        for (text, words) in [("siem:514", "tcp:// or udp://"), ("tcp://siem", "no port"), ("tcp://siem:0", "not a port"), ("tcp://si em:514", "not a host"),
                              ("udp://[::1:514", "[ADDRESS]:PORT")] {
            do { _ = try SyslogExportSink.Target(parsing: text); Issue.record("\(text) was accepted") } catch {
                #expect(error.description.contains(words), "\(text): \(error)")
            }
        }
        let now = Timestamp(microseconds: 1_764_000_000_000_000)
        var alert = SecurityAlert(id: "a\"]\\b", rule: "R]1", title: String(repeating: "é", count: 5000), level: .critical, group: [],
                                  entities: (0..<500).map { Entity(.ip, "198.51.100.\($0 % 256)") }, firstTime: now, lastTime: now, eventCount: 9,
                                  evidence: (0..<500).map { "event-\($0)" }, status: .open, node: "n")
        alert.note = "watchlisted"
        let message = SyslogFormatter(hostname: "web 1\u{7f}").message(alert)
        let text = String(decoding: message, as: UTF8.self)
        #expect(message.count <= SyslogFormatter.maxBytes)
        #expect(text.hasPrefix("<82>1 2025-11-24T16:00:00.000000Z web1 secmon "), "\(text.prefix(80))")
        #expect(text.contains(#"id="a\"\]\\b" rule="R\]1" level="critical""#))
        let json = String(text[text.index(after: text.firstIndex(of: "{")!)...].dropLast())
        #expect(try JSONSerialization.jsonObject(with: Data(("{" + json + "}").utf8)) is [String: Any], "the JSON stays whole when cut to fit")
        #expect(SyslogFormatter.frame(Array("abc".utf8)) == Array("3 abc".utf8))
    }
}
