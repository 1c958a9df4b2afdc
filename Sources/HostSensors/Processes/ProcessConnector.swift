import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's process connector: a netlink socket on which the kernel reports every exec, fork
/// and exit as it happens. Needs `CAP_NET_ADMIN` (root); ``open()`` fails otherwise, and the
/// sensors fall back to polling `/proc`.
///
/// Not thread-safe: one thread reads it (``ProcessWatcher``'s).
public final class ProcessConnector: @unchecked Sendable {
    /// Why the connector could not be opened or read.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Times the kernel dropped events because they were not read fast enough (`ENOBUFS`).
    public private(set) var overruns = 0

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Opens the socket, joins the process events group and subscribes.
    public static func open() throws(Failure) -> ProcessConnector {
        let netlinkConnector: Int32 = 11  // NETLINK_CONNECTOR
        let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkConnector)
        guard fd >= 0 else { throw Failure(description: "netlink socket: \(String(cString: strerror(errno)))") }
        let connector = ProcessConnector(descriptor: fd)
        // sockaddr_nl: family (u16), padding (u16), port id (u32, 0: the kernel chooses), groups (u32).
        var address: (UInt16, UInt16, UInt32, UInt32) = (UInt16(AF_NETLINK), 0, 0, 1)  // groups: CN_IDX_PROC
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 12) }
        }
        guard bound == 0 else { throw Failure(description: "binding the process connector: \(String(cString: strerror(errno))) (it needs root)") }
        // A larger receive buffer rides out bursts (many short processes at once).
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // nlmsghdr (NLMSG_DONE) + cn_msg (CN_IDX_PROC, CN_VAL_PROC, len 4) + PROC_CN_MCAST_LISTEN.
        var message = [UInt8](repeating: 0, count: 40)
        func put(_ value: UInt32, at offset: Int) { withUnsafeBytes(of: value.littleEndian) { message.replaceSubrange(offset..<(offset + 4), with: $0) } }
        func put16(_ value: UInt16, at offset: Int) { withUnsafeBytes(of: value.littleEndian) { message.replaceSubrange(offset..<(offset + 2), with: $0) } }
        put(40, at: 0)
        put16(3, at: 4)  // NLMSG_DONE
        put(UInt32(bitPattern: getpid()), at: 12)
        put(1, at: 16)
        put(1, at: 20)
        put16(4, at: 32)
        put(1, at: 36)  // PROC_CN_MCAST_LISTEN
        let sent = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == 40 else { throw Failure(description: "subscribing to process events: \(String(cString: strerror(errno))) (it needs root)") }
        return connector
    }

    /// Waits up to `timeoutMilliseconds` for events and returns those that arrived (empty on a
    /// timeout). Throws when the socket fails for good.
    public func next(timeoutMilliseconds: Int32) throws(Failure) -> [ProcessConnectorMessage] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw Failure(description: "waiting for process events: \(String(cString: strerror(errno)))")
        }
        guard ready > 0 else { return [] }
        var messages: [ProcessConnectorMessage] = []
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if got < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return messages }
                if errno == ENOBUFS { overruns += 1; continue }
                throw Failure(description: "reading process events: \(String(cString: strerror(errno)))")
            }
            if got == 0 { return messages }
            buffer.withUnsafeBytes { messages += ProcessConnectorMessage.parse(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        }
    }
}
