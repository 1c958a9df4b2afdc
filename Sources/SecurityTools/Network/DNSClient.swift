import Foundation
import SecurityModel
#if canImport(Glibc)
import Glibc
#endif

/// Asks one DNS server over UDP, as `dig @server` does: one question, a deadline, answers with
/// another id ignored. Blocking; callers run it off their event loop.
public struct DNSClient: Sendable {
    /// The server asked, and its port.
    public var server: IPAddress
    public var port: UInt16
    /// How long to wait for an answer, in milliseconds (the question is sent again once, halfway).
    public var timeoutMilliseconds: Int

    public init(server: IPAddress, port: UInt16 = 53, timeoutMilliseconds: Int = 3000) {
        self.server = server
        self.port = port
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The first `nameserver` of `/etc/resolv.conf` (the system's resolver), or nil.
    public static func systemServer(resolvConf: String = "/etc/resolv.conf") -> IPAddress? {
        guard let text = try? String(contentsOfFile: resolvConf, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 2, words[0] == "nameserver", let address = IPAddress(words[1]) { return address }
        }
        return nil
    }

    /// Why a lookup got no answer.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The server's answer to `name` (ASCII, validated) of `type`.
    public func lookup(_ name: String, type: DNSMessage.RecordType) throws(Failure) -> DNSMessage.Response {
        // A random id, so that an off-path answer has to guess it.
        let id = UInt16.random(in: 0...UInt16.max)
        let query = DNSMessage.query(id: id, name: name, type: type)
        let family = server.isIPv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot open a UDP socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard SocketConnect.connect(fd, to: server, port: port) == 0 else { throw Failure(description: "cannot reach \(server): \(String(cString: strerror(errno)))") }
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(max(100, timeoutMilliseconds)) * 1_000_000
        var resent = false
        var buffer = [UInt8](repeating: 0, count: 65_535)
        guard send(fd, query, query.count, 0) == query.count else { throw Failure(description: "cannot send to \(server): \(String(cString: strerror(errno)))") }
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { throw Failure(description: "no answer from \(server) within \(timeoutMilliseconds) ms") }
            if !resent && now > start + (deadline - start) / 2 {
                resent = true
                _ = send(fd, query, query.count, 0)
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            // Short waits, so the deadline and the resend are kept to within 50 ms.
            let ready = poll(&poller, 1, 50)
            if ready < 0 && errno != EINTR { throw Failure(description: "waiting for \(server) failed: \(String(cString: strerror(errno)))") }
            guard ready > 0 else { continue }
            let got = recv(fd, &buffer, buffer.count, 0)
            if got < 0 {
                // ICMP port unreachable shows up here.
                if errno == ECONNREFUSED { throw Failure(description: "\(server) port \(port) refused: no DNS server there") }
                continue
            }
            do {
                return try DNSMessage.parse(Array(buffer[0..<got]), expecting: id)
            } catch let malformed {
                // Someone else's answer (another id) is ignored; a broken answer to ours is an error.
                if malformed.description.contains("not our answer") { continue }
                throw Failure(description: "\(server) answered something unreadable: \(malformed.description)")
            }
        }
    }
}
