import Foundation
@testable import HostSensors
import SecurityModel
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's socket diagnostics (netlink sock_diag): the records parsed from bytes, and the
/// live dump agreeing with `/proc/net` on a socket the test opens.
@Suite("Socket diagnostics")
struct SocketDiagnosticsTests {
    /// A netlink message of `type` around `body`, padded to 4 bytes.
    static func message(type: UInt16, _ body: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: UInt32(16 + body.count)) { bytes.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: type) { bytes.replaceSubrange(4..<6, with: $0) }
        bytes += body
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    /// An `inet_diag_msg` as the kernel writes it.
    static func record(family: Int32, state: UInt8, local: [UInt8], localPort: UInt16, remote: [UInt8], remotePort: UInt16,
                       uid: UInt32, inode: UInt32) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 72)
        body[0] = UInt8(family)
        body[1] = state
        body[4] = UInt8(localPort >> 8); body[5] = UInt8(localPort & 0xFF)
        body[6] = UInt8(remotePort >> 8); body[7] = UInt8(remotePort & 0xFF)
        body.replaceSubrange(8..<(8 + local.count), with: local)
        body.replaceSubrange(24..<(24 + remote.count), with: remote)
        withUnsafeBytes(of: uid) { body.replaceSubrange(64..<68, with: $0) }
        withUnsafeBytes(of: inode) { body.replaceSubrange(68..<72, with: $0) }
        return body
    }

    static func parse(_ bytes: [UInt8], transport: SocketEntry.Transport = .tcp) -> (Result<Bool, SocketDiagnostics.Failure>, [SocketEntry], Int) {
        var entries: [(entry: SocketEntry, table: String)] = []
        var rejected = 0, messages = 0, timeWait = 0
        let table = SocketDiagnostics.tables.first { $0.transport == transport }!
        let outcome = bytes.withUnsafeBytes {
            SocketDiagnostics.parse($0, table: table, sequence: 1, into: &entries, rejected: &rejected, timeWait: &timeWait, messages: &messages)
        }
        return (outcome, entries.map(\.entry), rejected + timeWait * 1000)
    }

    @Test("records: addresses of both families, ports in network order, uid and inode; the end and errors")
    func records() throws {
        let v4 = Self.record(family: AF_INET, state: 0x0A, local: [127, 0, 0, 1], localPort: 8080, remote: [0, 0, 0, 0], remotePort: 0, uid: 1000, inode: 4242)
        var v6Local = [UInt8](repeating: 0, count: 16); v6Local[15] = 1
        let v6Remote: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [7]
        let v6 = Self.record(family: AF_INET6, state: 0x01, local: v6Local, localPort: 443, remote: v6Remote, remotePort: 50_123, uid: 0, inode: 99)
        let bytes = Self.message(type: 20, v4) + Self.message(type: 20, v6) + Self.message(type: 3, [0, 0, 0, 0])
        let (outcome, entries, rejected) = Self.parse(bytes)
        #expect((try? outcome.get()) == true)
        #expect(rejected == 0 && entries.count == 2)
        #expect(entries[0] == SocketEntry(transport: .tcp, localAddress: IPAddress("127.0.0.1")!, localPort: 8080, remoteAddress: IPAddress("0.0.0.0")!,
                                          remotePort: 0, state: 0x0A, uid: 1000, inode: 4242))
        #expect(entries[0].isListening)
        #expect(entries[1].localAddress == IPAddress("::1")! && entries[1].remoteAddress == IPAddress("2001:db8::7")! && entries[1].remotePort == 50_123)

        // TIME_WAIT is counted (here as thousands), not listed.
        let waiting = Self.record(family: AF_INET, state: 6, local: [10, 0, 0, 1], localPort: 80, remote: [10, 0, 0, 2], remotePort: 5000, uid: 0, inode: 0)
        let (_, listed, counted) = Self.parse(Self.message(type: 20, waiting) + Self.message(type: 20, v4))
        #expect(listed.count == 1 && counted == 1000)
        // Without the end: more to read. A short record and an unknown family are counted.
        let short = Self.message(type: 20, Array(v4.prefix(40)))
        var odd = v4; odd[0] = 99
        let (more, none, bad) = Self.parse(short + Self.message(type: 20, odd))
        #expect((try? more.get()) == false && none.isEmpty && bad == 2)
        // A length past the buffer is counted, not read.
        var broken = Self.message(type: 20, v4)
        broken[0] = 0xFF
        #expect(Self.parse(broken).2 == 1)
        // NLMSG_ERROR with an errno fails the dump, naming it.
        var error = [UInt8](repeating: 0, count: 4)
        withUnsafeBytes(of: Int32(-EPERM)) { error.replaceSubrange(0..<4, with: $0) }
        let (failed, _, _) = Self.parse(Self.message(type: 2, error))
        #expect(throws: SocketDiagnostics.Failure.self) { try failed.get() }
    }

    @Test("the live dump lists a socket the test opens, as /proc/net does, with the same inode")
    func live() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(fd, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        let dump = try SocketDiagnostics.read()
        let fromProc = SocketReader(proc: ProcFileSystem(), useDiagnostics: false).readProcTables()
        let mine = try #require(dump.entries.first { $0.entry.localPort == port && $0.entry.isListening && $0.table == "tcp" })
        let same = try #require(fromProc.entries.first { $0.entry.localPort == port && $0.entry.isListening && $0.table == "tcp" })
        #expect(mine.entry == same.entry, "sock_diag and /proc/net/tcp describe the socket alike")
        #expect(mine.entry.localAddress == IPAddress("127.0.0.1")! && mine.entry.uid == getuid())
        // Listeners there before and after the /proc read (other tests open and close theirs) are
        // in /proc too: the dump misses none of them.
        func listeners(_ entries: [(entry: SocketEntry, table: String)]) -> Set<String> {
            Set(entries.filter { $0.entry.isListening }.map { "\($0.table) \($0.entry.localPort) \($0.entry.inode)" })
        }
        let after = try SocketDiagnostics.read()
        let stable = listeners(dump.entries).intersection(listeners(after.entries))
        #expect(stable.isSubset(of: listeners(fromProc.entries)), "\(stable.subtracting(listeners(fromProc.entries)))")
        #expect(stable.contains("tcp \(port) \(mine.entry.inode)"))
        // The reader uses the dump on the live /proc.
        #expect(SocketReader(proc: ProcFileSystem()).useDiagnostics && !SocketReader(proc: ProcFileSystem(root: "/tmp")).useDiagnostics)
    }
}
