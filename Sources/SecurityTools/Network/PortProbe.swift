import Foundation
import SecurityModel
#if canImport(Glibc)
import Glibc
#endif

/// A TCP port check: connect to one address (already checked against ``ToolTargets``), say
/// whether the port is open, closed or silent, how long it took, and the first bytes a service
/// greets with (SSH and SMTP do). Nothing is sent. Blocking; callers run it off their event loop.
public struct PortProbe: Sendable {
    /// What the check found.
    public struct Result: Sendable, Equatable, Codable {
        /// `open`, `closed` (refused) or `filtered` (no answer in time).
        public var state: String
        public var milliseconds: Int
        /// The service's first bytes, printable ASCII, up to 256 (empty when it waits for the client).
        public var banner: String
    }

    public var connectTimeoutMilliseconds: Int
    public var bannerMilliseconds: Int

    public init(connectTimeoutMilliseconds: Int = 3000, bannerMilliseconds: Int = 1000) {
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.bannerMilliseconds = bannerMilliseconds
    }

    /// Why the check could not run at all.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Checks `port` of `address`.
    public func check(_ address: IPAddress, port: UInt16) throws(Failure) -> Result {
        let family = address.isIPv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) }
        let status = SocketConnect.connect(fd, to: address, port: port)
        if status != 0 && errno != EINPROGRESS {
            if errno == ECONNREFUSED { return Result(state: "closed", milliseconds: elapsed(), banner: "") }
            throw Failure(description: "cannot connect to \(address) port \(port): \(String(cString: strerror(errno)))")
        }
        if status != 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(clamping: connectTimeoutMilliseconds))
            guard ready > 0 else { return Result(state: "filtered", milliseconds: elapsed(), banner: "") }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == ECONNREFUSED { return Result(state: "closed", milliseconds: elapsed(), banner: "") }
            if error == ETIMEDOUT || error == EHOSTUNREACH || error == ENETUNREACH { return Result(state: "filtered", milliseconds: elapsed(), banner: "") }
            if error != 0 { throw Failure(description: "connecting to \(address) port \(port) failed: \(String(cString: strerror(error)))") }
        }
        let connected = elapsed()
        // A greeting, if the service sends one unasked.
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var banner = ""
        if poll(&poller, 1, Int32(clamping: bannerMilliseconds)) > 0 {
            var buffer = [UInt8](repeating: 0, count: 256)
            let got = recv(fd, &buffer, buffer.count, 0)
            if got > 0 {
                banner = String(decoding: buffer[0..<got].map { ($0 >= 0x20 && $0 < 0x7f) ? $0 : 0x20 }, as: UTF8.self)
                    .trimmingCharacters(in: .whitespaces)
            }
        }
        return Result(state: "open", milliseconds: connected, banner: banner)
    }

    /// The addresses `host` resolves to (an address resolves to itself), through the system's
    /// resolver (`getaddrinfo`), IPv4 first.
    public static func resolve(_ host: String) throws(Failure) -> [IPAddress] {
        if let address = IPAddress(host) { return [address] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(description: "\(host) does not resolve: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var out: [IPAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node {
            if let raw = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { if let address = IPAddress(networkBytes: $0) { out.append(address) } }
                    }
                } else if entry.pointee.ai_family == AF_INET6 {
                    raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { if let address = IPAddress(networkBytes: $0) { out.append(address) } }
                    }
                }
            }
            node = entry.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return out.filter { seen.insert($0).inserted }.sorted { $0.isIPv4 && !$1.isIPv4 }
    }
}
