import SecurityModel

/// One socket as the console, the API and `secmon host snapshot` show it: its addresses, state,
/// and the process that holds it.
public struct HostSocket: Sendable, Codable, Equatable {
    /// `tcp`, `tcp6`, `udp` or `udp6`.
    public var proto: String
    public var localAddress: String
    public var localPort: UInt16
    public var remoteAddress: String
    public var remotePort: UInt16
    /// `LISTEN`, `ESTABLISHED`, ... (`UNCONN` for an unconnected UDP socket, as `ss` shows it).
    public var state: String
    public var uid: UInt32
    public var inode: UInt64
    /// The owning process, when one of the processes read holds it (sockets of other network
    /// namespaces, or of processes that could not be read, have none).
    public var pid: Int32?
    public var process: String?

    enum CodingKeys: String, CodingKey {
        case proto = "protocol", state, uid, inode, pid, process
        case localAddress = "local_address", localPort = "local_port"
        case remoteAddress = "remote_address", remotePort = "remote_port"
    }

    public init(_ entry: SocketEntry, proto: String, owner: (pid: Int32, name: String)?) {
        self.proto = proto
        localAddress = entry.localAddress.description
        localPort = entry.localPort
        remoteAddress = entry.remoteAddress.description
        remotePort = entry.remotePort
        state = entry.transport == .tcp ? Self.tcpStateName(entry.state) : (entry.state == 0x01 ? "ESTAB" : "UNCONN")
        uid = entry.uid
        inode = entry.inode
        pid = owner?.pid
        process = owner?.name
    }

    /// A TCP listener, or a UDP socket bound without a peer (a UDP service).
    public var isListening: Bool { state == "LISTEN" || (state == "UNCONN" && remotePort == 0) }

    /// The kernel's TCP states by number (include/net/tcp_states.h).
    static func tcpStateName(_ state: UInt8) -> String {
        switch state {
        case 0x01: "ESTABLISHED"
        case 0x02: "SYN_SENT"
        case 0x03: "SYN_RECV"
        case 0x04: "FIN_WAIT1"
        case 0x05: "FIN_WAIT2"
        case 0x06: "TIME_WAIT"
        case 0x07: "CLOSE"
        case 0x08: "CLOSE_WAIT"
        case 0x09: "LAST_ACK"
        case 0x0A: "LISTEN"
        case 0x0B: "CLOSING"
        case 0x0C: "NEW_SYN_RECV"
        default: "UNKNOWN"
        }
    }
}
