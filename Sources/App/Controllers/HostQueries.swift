import HostSensors
import Vapor

/// The filters and orders the host pages and the host API share.
enum HostQueries {
    /// How a process list is ordered.
    enum ProcessOrder: String, CaseIterable {
        case cpu, memory, pid, name, user, start

        func sort(_ processes: inout [HostProcess]) {
            switch self {
            case .cpu: processes.sort { ($0.cpuPercent, $1.pid) > ($1.cpuPercent, $0.pid) }
            case .memory: processes.sort { ($0.residentBytes, $1.pid) > ($1.residentBytes, $0.pid) }
            case .pid: processes.sort { $0.pid < $1.pid }
            case .name: processes.sort { ($0.name.lowercased(), $0.pid) < ($1.name.lowercased(), $1.pid) }
            case .user: processes.sort { ($0.user, $0.pid) < ($1.user, $1.pid) }
            case .start: processes.sort { ($0.startTime, $0.pid) > ($1.startTime, $1.pid) }
            }
        }
    }

    /// `sort` as an order, refusing unknown ones with the list of known ones.
    static func order(_ text: String?) throws -> ProcessOrder {
        guard let text, !text.isEmpty else { return .cpu }
        guard let order = ProcessOrder(rawValue: text) else {
            throw Abort(.badRequest, reason: "sort must be one of \(ProcessOrder.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text.prefix(utf8Bytes: 32))'")
        }
        return order
    }

    /// The processes matching `query` (text in the name, command line, user or executable, or the
    /// pid itself), case ignored.
    static func filter(_ processes: [HostProcess], query: String?) -> [HostProcess] {
        guard let query = query?.trimmingCharacters(in: .whitespaces), !query.isEmpty else { return processes }
        let needle = query.lowercased()
        if let pid = Int32(needle) { return processes.filter { $0.pid == pid || $0.parent == pid } }
        return processes.filter { process in
            process.name.lowercased().contains(needle) || process.commandLine.lowercased().contains(needle)
                || process.user.lowercased().contains(needle) || (process.executable?.lowercased().contains(needle) ?? false)
        }
    }

    /// The sockets of one process (when `pid` is given) and matching `query` (an address or a port).
    static func sockets(_ sockets: [HostSocket], pid: Int32?, query: String?) -> [HostSocket] {
        var result = sockets
        if let pid { result = result.filter { $0.pid == pid } }
        if let query = query?.trimmingCharacters(in: .whitespaces).lowercased(), !query.isEmpty {
            result = result.filter { socket in
                socket.localAddress.contains(query) || socket.remoteAddress.contains(query) || String(socket.localPort) == query
                    || String(socket.remotePort) == query || (socket.process?.lowercased().contains(query) ?? false)
            }
        }
        return result
    }

    /// A history range: `1h`, `24h` or `7d`, in seconds.
    static func range(_ text: String?) throws -> (name: String, seconds: Int64) {
        switch text ?? "1h" {
        case "", "1h": return ("1h", 3600)
        case "24h": return ("24h", 86_400)
        case "7d": return ("7d", 7 * 86_400)
        default: throw Abort(.badRequest, reason: "range must be 1h, 24h or 7d, not '\((text ?? "").prefix(utf8Bytes: 16))'")
        }
    }

    /// The running sensors and their latest reading, or an answer that says they are off or have
    /// not read yet.
    static func reading(_ request: Request) throws -> (host: HostSensorService, snapshot: HostSnapshot) {
        let host = try sensors(request)
        guard let snapshot = host.monitor.latest else {
            throw Abort(.serviceUnavailable, reason: "the host sensors have not finished their first reading; try again in a few seconds")
        }
        return (host, snapshot)
    }

    /// The running sensors, or an answer that says they are off.
    static func sensors(_ request: Request) throws -> HostSensorService {
        guard let host = request.secmon.host else {
            throw Abort(.serviceUnavailable, reason: "the host sensors are off: start SecMon with --host-sensors on (SECMON_HOST_SENSORS=on)")
        }
        return host
    }
}
