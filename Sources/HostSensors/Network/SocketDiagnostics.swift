import Foundation
import SecurityModel
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's socket diagnostics (netlink `NETLINK_SOCK_DIAG`, what `ss` reads): the TCP and
/// UDP sockets of both families as binary records, in one dump per table, with TIME_WAIT left out
/// by the kernel. Cheaper than `/proc/net/tcp`, which the kernel formats as text and, on every
/// read, finds its place again by walking the connection hash from the start.
///
/// Works for any user (each socket's owner and inode are reported as in `/proc`). ``read()``
/// fails when the kernel lacks the module; ``SocketReader`` then reads `/proc/net`.
public enum SocketDiagnostics {
    /// Why a dump failed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// One table to dump: the `/proc/net` name it stands for, the family and the protocol.
    struct Table {
        let name: String
        let family: UInt8
        let transport: SocketEntry.Transport
    }

    static let tables = [
        Table(name: "tcp", family: UInt8(AF_INET), transport: .tcp), Table(name: "tcp6", family: UInt8(AF_INET6), transport: .tcp),
        Table(name: "udp", family: UInt8(AF_INET), transport: .udp), Table(name: "udp6", family: UInt8(AF_INET6), transport: .udp),
    ]

    /// TCP_TIME_WAIT: counted, not listed.
    static let timeWaitState: UInt8 = 6

    /// Every socket of the four tables (TIME_WAIT only counted), with the table each belongs to.
    /// One dump per table: each TCP dump walks the kernel's whole connection hash (what costs),
    /// so TIME_WAIT comes in the same dump and is counted while parsing, never asked for apart.
    /// - Throws: ``Failure`` when the netlink socket cannot be opened or a dump fails; the caller
    ///   falls back to `/proc/net`.
    public static func read() throws(Failure) -> (entries: [(entry: SocketEntry, table: String)], rejected: Int, timeWait: Int) {
        let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 4)  // NETLINK_SOCK_DIAG
        guard fd >= 0 else { throw Failure(description: "netlink sock_diag socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var entries: [(entry: SocketEntry, table: String)] = []
        var rejected = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var timeWait = 0
        for (sequence, table) in tables.enumerated() {
            try dump(fd, table, sequence: UInt32(sequence + 1), buffer: &buffer, into: &entries, rejected: &rejected, timeWait: &timeWait)
        }
        return (entries, rejected, timeWait)
    }

    /// The request: `nlmsghdr` (16 bytes) and `inet_diag_req_v2` (56 bytes), native byte order
    /// except the socket id's ports and addresses (zero: every socket).
    static func request(_ table: Table, sequence: UInt32) -> [UInt8] {
        var message = [UInt8](repeating: 0, count: 72)
        func put32(_ value: UInt32, at offset: Int) { withUnsafeBytes(of: value) { message.replaceSubrange(offset..<(offset + 4), with: $0) } }
        func put16(_ value: UInt16, at offset: Int) { withUnsafeBytes(of: value) { message.replaceSubrange(offset..<(offset + 2), with: $0) } }
        put32(72, at: 0)
        put16(20, at: 4)                 // SOCK_DIAG_BY_FAMILY
        put16(0x0001 | 0x0300, at: 6)    // NLM_F_REQUEST | NLM_F_DUMP
        put32(sequence, at: 8)
        message[16] = table.family
        message[17] = table.transport == .tcp ? UInt8(IPPROTO_TCP) : UInt8(IPPROTO_UDP)
        put32(~UInt32(0), at: 20)  // idiag_states: all

        return message
    }

    private static func dump(_ fd: Int32, _ table: Table, sequence: UInt32, buffer: inout [UInt8],
                             into entries: inout [(entry: SocketEntry, table: String)], rejected: inout Int, timeWait: inout Int) throws(Failure) {
        let message = request(table, sequence: sequence)
        var sent: Int
        repeat { sent = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } } while sent < 0 && errno == EINTR
        guard sent == message.count else { throw Failure(description: "sock_diag request (\(table.name)): \(String(cString: strerror(errno)))") }
        // Bounded: a dump ends with NLMSG_DONE; a kernel that never sent it would be stopped by
        // the message limit (16 million records are far beyond any real table).
        var messages = 0
        while messages < 1 << 24 {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "sock_diag dump (\(table.name)): \(String(cString: strerror(errno)))")
            }
            if got == 0 { throw Failure(description: "sock_diag dump (\(table.name)): the kernel closed the socket") }
            let outcome = buffer.withUnsafeBytes { raw -> Result<Bool, Failure> in
                parse(UnsafeRawBufferPointer(rebasing: raw[0..<got]), table: table, sequence: sequence, into: &entries, rejected: &rejected,
                      timeWait: &timeWait, messages: &messages)
            }
            switch outcome {
            case .success(true): return
            case .success(false): continue
            case .failure(let failure): throw failure
            }
        }
        throw Failure(description: "sock_diag dump (\(table.name)): no end after \(messages) records")
    }

    /// Parses the netlink messages of one `recv`; `.success(true)` at the end of the dump.
    static func parse(_ bytes: UnsafeRawBufferPointer, table: Table, sequence: UInt32,
                      into entries: inout [(entry: SocketEntry, table: String)], rejected: inout Int, timeWait: inout Int,
                      messages: inout Int) -> Result<Bool, Failure> {
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            guard length >= 16, offset + length <= bytes.count else {
                rejected += 1
                return .success(false)
            }
            messages += 1
            let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 16)..<(offset + length)])
            switch type {
            case 3:  // NLMSG_DONE
                return .success(true)
            case 2:  // NLMSG_ERROR: a negative errno, then the request
                let code = body.count >= 4 ? body.loadUnaligned(as: Int32.self) : 0
                if code == 0 { return .success(true) }
                return .failure(Failure(description: "sock_diag dump (\(table.name)): \(String(cString: strerror(-code)))"))
            case 20 where table.transport == .tcp && body.count > 1 && body[1] == timeWaitState:
                timeWait += 1
            case 20:
                if let entry = entry(body, transport: table.transport) { entries.append((entry, table.name)) } else { rejected += 1 }
            default:
                break
            }
            offset += (length + 3) & ~3  // NLMSG_ALIGN
        }
        return .success(false)
    }

    /// One `inet_diag_msg`: family, state, timer, retransmits; the socket id (source and
    /// destination port, big-endian; the addresses, 16 bytes each; interface; cookie); expires,
    /// receive and send queues, uid, inode.
    static func entry(_ body: UnsafeRawBufferPointer, transport: SocketEntry.Transport) -> SocketEntry? {
        guard body.count >= 72 else { return nil }
        let family = body[0]
        let width = family == UInt8(AF_INET) ? 4 : family == UInt8(AF_INET6) ? 16 : 0
        guard width > 0,
              let local = IPAddress(networkBytes: UnsafeRawBufferPointer(rebasing: body[8..<(8 + width)])),
              let remote = IPAddress(networkBytes: UnsafeRawBufferPointer(rebasing: body[24..<(24 + width)])) else { return nil }
        let localPort = UInt16(body[4]) << 8 | UInt16(body[5])
        let remotePort = UInt16(body[6]) << 8 | UInt16(body[7])
        let uid = body.loadUnaligned(fromByteOffset: 64, as: UInt32.self)
        let inode = body.loadUnaligned(fromByteOffset: 68, as: UInt32.self)
        return SocketEntry(transport: transport, localAddress: local, localPort: localPort, remoteAddress: remote, remotePort: remotePort,
                           state: body[1], uid: uid, inode: UInt64(inode))
    }
}
