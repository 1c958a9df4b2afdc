import SecurityModel
#if canImport(Glibc)
import Glibc
#endif

/// `connect(2)` to an ``IPAddress`` and port, IPv4 or IPv6: the one place the tools build a
/// `sockaddr`. Answers `connect`'s result (0, or -1 with `errno` set).
enum SocketConnect {
    static func connect(_ fd: Int32, to address: IPAddress, port: UInt16) -> Int32 {
        if address.isIPv4 {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { raw in
                for index in 0..<4 { raw[index] = address.bytes[12 + index] }
            }
            return withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var socketAddress = sockaddr_in6()
        socketAddress.sin6_family = sa_family_t(AF_INET6)
        socketAddress.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { raw in
            for index in 0..<16 { raw[index] = address.bytes[index] }
        }
        return withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }
}
