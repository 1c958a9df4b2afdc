/// Tells new connections and new listeners from those seen before, one socket-table reading
/// after another. The first reading only primes it: what is already open when the sensor starts
/// is not reported (a restart must not report every listener again).
///
/// Polling sees what is open at each reading: a connection opened and closed between two readings
/// is not seen.
public struct ConnectionTracker: Sendable {
    struct Key: Hashable, Sendable {
        var proto: String
        var local: String
        var localPort: UInt16
        var remote: String
        var remotePort: UInt16
    }

    struct PortKey: Hashable, Sendable {
        var tcp: Bool
        var port: UInt16
    }

    private var connections = Set<Key>()
    private var listeners = Set<Key>()
    private var primed = false

    public init() {}

    /// The connections and listening sockets in `sockets` that were not there at the last reading.
    /// A connection is `initiated` by this host when its local port is not one it listens on.
    public mutating func update(_ sockets: [HostSocket]) -> (connections: [(socket: HostSocket, initiated: Bool)], listeners: [HostSocket]) {
        var listeningPorts = Set<PortKey>()
        var nowListening = Set<Key>()
        var nowConnected = Set<Key>()
        for socket in sockets where socket.state == "LISTEN" {
            listeningPorts.insert(PortKey(tcp: true, port: socket.localPort))
            nowListening.insert(Self.key(socket))
        }
        var newConnections: [(socket: HostSocket, initiated: Bool)] = []
        var newListeners: [HostSocket] = []
        for socket in sockets {
            if socket.state == "LISTEN" {
                if primed, !listeners.contains(Self.key(socket)) { newListeners.append(socket) }
                continue
            }
            let tcp = socket.proto.hasPrefix("tcp")
            let open = tcp ? (socket.state == "ESTABLISHED" || socket.state == "SYN_SENT") : socket.state == "ESTAB"
            guard open, socket.remotePort != 0 else { continue }
            let key = Self.key(socket)
            guard nowConnected.insert(key).inserted else { continue }
            if primed, !connections.contains(key) {
                newConnections.append((socket, !listeningPorts.contains(PortKey(tcp: tcp, port: socket.localPort))))
            }
        }
        connections = nowConnected
        listeners = nowListening
        primed = true
        return (newConnections, newListeners)
    }

    static func key(_ socket: HostSocket) -> Key {
        Key(proto: socket.proto, local: socket.localAddress, localPort: socket.localPort, remote: socket.remoteAddress, remotePort: socket.remotePort)
    }
}
