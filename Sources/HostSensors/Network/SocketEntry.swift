import SecurityModel

/// One socket of `/proc/net/{tcp,tcp6,udp,udp6}`: addresses, state, owner and inode (which leads to
/// the owning process through its `fd` links).
public struct SocketEntry: Sendable, Equatable {
    public enum Transport: String, Sendable { case tcp, udp }

    public var transport: Transport
    public var localAddress: IPAddress
    public var localPort: UInt16
    public var remoteAddress: IPAddress
    public var remotePort: UInt16
    /// The kernel's TCP state (`0A` listen, `01` established, ...; UDP uses `07` for unconnected).
    public var state: UInt8
    public var uid: UInt32
    public var inode: UInt64

    public init(transport: Transport, localAddress: IPAddress, localPort: UInt16, remoteAddress: IPAddress, remotePort: UInt16,
                state: UInt8, uid: UInt32, inode: UInt64) {
        self.transport = transport
        self.localAddress = localAddress
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.state = state
        self.uid = uid
        self.inode = inode
    }

    /// Whether a TCP socket is listening.
    public var isListening: Bool { transport == .tcp && state == 0x0A }

    /// Parses every entry of a table's text (its header line skipped); lines that do not parse
    /// are counted in `rejected`.
    public static func parseTable(_ text: String, transport: Transport, rejected: inout Int) -> [SocketEntry] {
        var skipped = 0
        return parseTable(text, transport: transport, skippingTimeWait: false, skipped: &skipped, rejected: &rejected)
    }

    /// The same, leaving out TCP sockets in TIME_WAIT (closed connections the kernel remembers for a
    /// minute: a busy server has tens of thousands, none with an owner) and counting them in
    /// `skipped`. Their state is checked before anything else of the line is parsed.
    public static func parseTable(_ text: String, transport: Transport, skippingTimeWait: Bool, skipped: inout Int, rejected: inout Int) -> [SocketEntry] {
        var entries: [SocketEntry] = []
        for line in text.split(separator: "\n").dropFirst() {
            if skippingTimeWait, transport == .tcp, Self.state(of: line) == 0x06 {
                skipped += 1
                continue
            }
            if let entry = SocketEntry(line, transport: transport) { entries.append(entry) } else { rejected += 1 }
        }
        return entries
    }

    /// The state column (the fourth) of a table line, read from its bytes; nil when there is none.
    static func state(of line: Substring) -> UInt8? {
        var field = 0
        var inField = false
        var start = line.utf8.startIndex
        for index in line.utf8.indices {
            let byte = line.utf8[index]
            if byte == 0x20 {
                if inField {
                    inField = false
                    if field == 3 { return UInt8(Substring(line.utf8[start..<index]), radix: 16) }
                    field += 1
                }
            } else if !inField {
                inField = true
                start = index
            }
        }
        return nil
    }

    /// Parses one table line: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
    public init?(_ line: Substring, transport: Transport) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 10, let local = Self.endpoint(fields[1]), let remote = Self.endpoint(fields[2]),
              let state = UInt8(fields[3], radix: 16), let uid = UInt32(fields[7]), let inode = UInt64(fields[9]) else { return nil }
        self.transport = transport
        (localAddress, localPort) = local
        (remoteAddress, remotePort) = remote
        self.state = state
        self.uid = uid
        self.inode = inode
    }

    /// `0100007F:1F90` or a 32-digit IPv6 form: the address is written as 32-bit words in the
    /// machine's byte order (little-endian here), the port in hexadecimal.
    static func endpoint(_ text: Substring) -> (IPAddress, UInt16)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16) else { return nil }
        let hex = Array(parts[0].utf8)
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for word in stride(from: 0, to: hex.count, by: 8) {
            guard let value = UInt32(String(decoding: hex[word..<(word + 8)], as: UTF8.self), radix: 16) else { return nil }
            // The word as the kernel stored it in memory: little-endian.
            bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
        }
        let text = bytes.count == 4
            ? bytes.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
        guard let address = IPAddress(text) else { return nil }
        return (address, port)
    }
}
