import EventPipeline
import Foundation
import NIOCore
import NIOPosix
import SecurityModel
import Synchronization

/// Sends alerts to a SIEM's syslog input (RFC 5424 over TCP with octet counting, or UDP): a sink
/// on the alert bus, so a SIEM that is down holds up nothing else (the bus retries with back-off
/// and counts what it drops). An alert is sent when it opens and when it closes, not at each event
/// that extends it. One TCP connection is kept and made again after a failure.
final class SyslogExportSink: EventSink, Sendable {
    /// Where to send: `tcp://HOST:PORT` or `udp://HOST:PORT`.
    struct Target: Sendable, Hashable, CustomStringConvertible {
        enum Transport: String, Sendable { case tcp, udp }
        var transport: Transport
        var host: String
        var port: Int

        /// Parses `tcp://siem.example.net:514`, `udp://[2001:db8::5]:514`, naming what is wrong.
        init(parsing text: String) throws(StartupError) {
            let lower = text.lowercased()
            guard let scheme = Transport.allCases.first(where: { lower.hasPrefix($0.rawValue + "://") }) else {
                throw StartupError("the syslog export target must start with tcp:// or udp:// (tcp://siem.example.net:514), not '\(text.prefix(80))'")
            }
            let rest = text.dropFirst(scheme.rawValue.count + 3)
            let hostPart: Substring, portPart: Substring
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                    throw StartupError("'\(text.prefix(80))': an IPv6 address is written [ADDRESS]:PORT")
                }
                hostPart = rest[rest.index(after: rest.startIndex)..<close]
                portPart = rest[rest.index(close, offsetBy: 2)...]
            } else {
                guard let colon = rest.lastIndex(of: ":") else { throw StartupError("'\(text.prefix(80))' has no port (tcp://HOST:PORT)") }
                hostPart = rest[..<colon]
                portPart = rest[rest.index(after: colon)...]
            }
            guard !hostPart.isEmpty, hostPart.utf8.count <= 253, hostPart.allSatisfy({ $0.isLetter || $0.isNumber || ".-:_".contains($0) }) else {
                throw StartupError("'\(hostPart.prefix(80))' is not a host name or address (in \(text.prefix(80)))")
            }
            guard let port = Int(portPart), (1...65_535).contains(port) else {
                throw StartupError("'\(portPart.prefix(20))' is not a port from 1 to 65535 (in \(text.prefix(80)))")
            }
            self.transport = scheme
            self.host = String(hostPart)
            self.port = port
        }

        var description: String { "\(transport.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    }

    /// What was sent, for the export page.
    struct Statistics: Sendable, Equatable {
        var sent = 0
        var lastSent: Timestamp?
        var lastError: String?
        var connected = false
    }

    let name = "syslog-export"
    let target: Target
    let formatter: SyslogFormatter
    private let state = Mutex<(channel: (any Channel)?, stats: Statistics)>((nil, Statistics()))
    /// Open alerts already sent (an id goes when its alert closes).
    private let sentOpen = Mutex<Set<String>>([])

    init(target: Target, hostname: String) {
        self.target = target
        self.formatter = SyslogFormatter(hostname: hostname)
    }

    var statistics: Statistics { state.withLock { $0.stats } }

    func write(_ batch: [SecurityAlert]) async throws {
        let already = sentOpen.withLock { $0 }
        var messages: [[UInt8]] = []
        var opened: [String] = [], closed: [String] = []
        for alert in batch {
            switch alert.status {
            case .open:
                guard !already.contains(alert.id), !opened.contains(alert.id) else { continue }
                opened.append(alert.id)
            case .closed:
                closed.append(alert.id)
            }
            messages.append(formatter.message(alert))
        }
        guard !messages.isEmpty else { return }
        try await send(messages)
        sentOpen.withLock { set in
            set.formUnion(opened)
            set.subtract(closed)
        }
    }

    /// Sends one test message (an informational alert of rule `SECMON-TEST`) now, and says whether it went.
    func sendTest(by actor: String) async throws {
        let now = Timestamp.now()
        let alert = SecurityAlert(id: EventID.make(at: now), rule: "SECMON-TEST", title: "SecMon syslog export test, sent by \(actor)", level: .informational,
                                  group: [], entities: [], firstTime: now, lastTime: now, eventCount: 0, evidence: [], status: .closed,
                                  node: formatter.hostname)
        try await send([formatter.message(alert)])
    }

    private func send(_ messages: [[UInt8]]) async throws {
        do {
            switch target.transport {
            case .tcp:
                let channel = try await connected()
                var buffer = channel.allocator.buffer(capacity: messages.reduce(0) { $0 + $1.count + 8 })
                for message in messages { buffer.writeBytes(SyslogFormatter.frame(message)) }
                try await channel.writeAndFlush(buffer)
            case .udp:
                let address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
                let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
                defer { channel.close(promise: nil) }
                for message in messages {
                    let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: message))
                    try await channel.writeAndFlush(envelope)
                }
            }
            state.withLock {
                $0.stats.sent += messages.count
                $0.stats.lastSent = .now()
                $0.stats.lastError = nil
            }
        } catch {
            let channel = state.withLock { state -> (any Channel)? in
                defer { state.channel = nil }
                state.stats.connected = false
                state.stats.lastError = "\(Timestamp.now().iso8601)Z: \(error)"
                return state.channel
            }
            try? await channel?.close()
            throw error
        }
    }

    /// The kept TCP connection, made when there is none or it closed.
    private func connected() async throws -> any Channel {
        if let channel = state.withLock({ $0.channel }), channel.isActive { return channel }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .connect(host: target.host, port: target.port).get()
        let previous = state.withLock { state -> (any Channel)? in
            defer {
                state.channel = channel
                state.stats.connected = true
            }
            return state.channel
        }
        try? await previous?.close()
        return channel
    }
}

extension SyslogExportSink.Target.Transport: CaseIterable {}
