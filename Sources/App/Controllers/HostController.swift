import HostSensors
import SecurityModel
import SQLKit
import Vapor

/// The host pages: the system monitor (viewers), processes and network (analysts: command lines
/// and peers can hold secrets). They show the sensors' latest reading; their script reloads the
/// live part every few seconds, and without it they show the reading at load time.
struct HostController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "host", access: .role(.viewer), use: system)
        routes.secured(.GET, "host", "processes", access: .role(.analyst), use: processes)
        routes.secured(.GET, "host", "network", access: .role(.analyst), use: network)
    }

    // MARK: System

    struct Tile: Encodable { var label: String; var value: String; var detail: String; var tone: String }
    struct CoreBar: Encodable { var name: String; var percent: String; var width: Int }
    struct DiskRow: Encodable { var mountPoint: String; var device: String; var fileSystem: String; var size: String; var used: String; var free: String; var percent: String; var width: Int; var tone: String }
    struct InterfaceRow: Encodable { var name: String; var received: String; var sent: String; var receivedTotal: String; var sentTotal: String; var errors: UInt64 }
    struct RangeLink: Encodable { var name: String; var href: String; var current: Bool }
    struct SensorRow: Encodable { var label: String; var value: String; var bad: Bool }

    /// The current threat score, and its last 24 hours as SVG polyline points (on 600 × 120).
    struct ScoreBadge: Encodable { var total: String; var level: String; var trend: String }

    struct SystemContext: Encodable {
        var title = "Host"
        var user: LayoutUser
        var score: ScoreBadge? = nil
        var running: Bool
        var hostname: String
        var taken: String
        var tiles: [Tile]
        var cores: [CoreBar]
        var disks: [DiskRow]
        var interfaces: [InterfaceRow]
        var charts: [HostViews.LineChart]
        var ranges: [RangeLink]
        var sensors: [SensorRow]
    }

    struct RangeQuery: Content { var range: String? }

    @Sendable func system(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let range = try HostQueries.range(try request.query.decode(RangeQuery.self).range)
        let scores = HostScoreStore(database: try request.sqlDatabase())
        var score: ScoreBadge?
        if let latest = try await scores.latest() {
            let history = try await scores.history(since: Timestamp(microseconds: latest.time.microseconds - 86_400_000_000))
            score = ScoreBadge(total: ThreatScoreController.number(latest.score.total), level: latest.score.level,
                               trend: history.count > 1 ? ThreatScoreController.polyline(history.map { (Double($0.time.microseconds), $0.total) }) : "")
        }
        guard let host = request.secmon.host, let snapshot = host.monitor.latest else {
            return try await request.view.render("host", SystemContext(
                user: LayoutUser(principal), score: score, running: request.secmon.host != nil, hostname: "", taken: "", tiles: [], cores: [], disks: [],
                interfaces: [], charts: [], ranges: [], sensors: []))
        }
        let sample = snapshot.system
        let now = Timestamp.now().microseconds
        let start = now - range.seconds * 1_000_000
        var points = try await HostMetricStore(database: try request.sqlDatabase()).points(computer: host.monitor.configuration.hostname,
                                                                                               since: Timestamp(microseconds: start))
        if let current = host.currentPoint { points.append(current) }
        let tiles = [
            Tile(label: "CPU", value: sample.cpuPercent.map(HostViews.percent) ?? "–", detail: "\(sample.corePercents.count) core(s)",
                 tone: (sample.cpuPercent ?? 0) >= 75 ? "warn" : "ok"),
            Tile(label: "Memory", value: HostViews.percent(sample.memoryPercent),
                 detail: "\(HostViews.bytes(Double(sample.memoryTotalBytes - min(sample.memoryAvailableBytes, sample.memoryTotalBytes)))) of \(HostViews.bytes(Double(sample.memoryTotalBytes)))",
                 tone: sample.memoryPercent >= 85 ? "warn" : "ok"),
            Tile(label: "Swap", value: sample.swapTotalBytes == 0 ? "none" : HostViews.percent(sample.swapPercent),
                 detail: sample.swapTotalBytes == 0 ? "no swap" : "of \(HostViews.bytes(Double(sample.swapTotalBytes)))", tone: sample.swapPercent >= 50 ? "warn" : "ok"),
            Tile(label: "Load", value: sample.load.map { String(format: "%.2f", $0.one) } ?? "–",
                 detail: sample.load.map { String(format: "5 min %.2f · 15 min %.2f", $0.five, $0.fifteen) } ?? "", tone: "info"),
            Tile(label: "Processes", value: String(sample.processCount), detail: "\(snapshot.sockets.count) sockets", tone: "info"),
            Tile(label: "Up", value: HostViews.duration(sample.uptimeSeconds), detail: sample.hostname, tone: "info"),
        ]
        let cores = sample.corePercents.enumerated().map { index, value in
            CoreBar(name: "cpu\(index)", percent: value.map(HostViews.percent) ?? "–", width: Int((value ?? 0).rounded()).clamped(0, 100))
        }
        let disks = sample.disks.map { disk in
            DiskRow(mountPoint: disk.mountPoint, device: disk.device, fileSystem: disk.fileSystem, size: HostViews.bytes(Double(disk.totalBytes)),
                    used: HostViews.bytes(Double(disk.usedBytes)), free: HostViews.bytes(Double(disk.availableBytes)), percent: HostViews.percent(disk.usedPercent),
                    width: Int(disk.usedPercent.rounded()).clamped(0, 100), tone: disk.usedPercent >= 90 ? "bad" : disk.usedPercent >= 75 ? "warn" : "ok")
        }
        let interfaces = sample.interfaces.map { interface in
            InterfaceRow(name: interface.name, received: HostViews.bytes(interface.receivedBytesPerSecond) + "/s",
                         sent: HostViews.bytes(interface.sentBytesPerSecond) + "/s", receivedTotal: HostViews.bytes(Double(interface.receivedBytes)),
                         sentTotal: HostViews.bytes(Double(interface.sentBytes)), errors: interface.errors)
        }
        let charts = [
            HostViews.lineChart(id: "chart-cpu", title: "CPU", unit: "%", points: points, start: start, end: now, fixedMaximum: 100,
                                series: [("average", "line-a", { $0.cpuPercent }), ("peak", "line-b", { $0.cpuPeakPercent })], format: HostViews.percent),
            HostViews.lineChart(id: "chart-memory", title: "Memory and swap", unit: "%", points: points, start: start, end: now, fixedMaximum: 100,
                                series: [("memory", "line-a", { $0.memoryPercent }), ("swap", "line-b", { $0.swapPercent })], format: HostViews.percent),
            HostViews.lineChart(id: "chart-disk", title: "Fullest disk", unit: "%", points: points, start: start, end: now, fixedMaximum: 100,
                                series: [("used", "line-a", { $0.diskPercent })], format: HostViews.percent),
            HostViews.lineChart(id: "chart-network", title: "Network (all interfaces but loopback)", unit: "B/s", points: points, start: start, end: now,
                                series: [("received", "line-a", { $0.receivedBytesPerSecond }), ("sent", "line-b", { $0.sentBytesPerSecond })],
                                format: { HostViews.bytes($0) + "/s" }),
        ]
        let statistics = host.monitor.statistics
        let counts = statistics.lastCounts
        var sensors = [
            SensorRow(label: "Process starts seen through",
                      value: statistics.processes.mode == .connector ? "the process connector (every start)"
                          : "polling /proc every second (\(statistics.processes.fallbackReason ?? "")): short-lived processes are missed", bad: statistics.processes.mode != .connector),
            SensorRow(label: "Process starts reported", value: String(statistics.processes.starts), bad: false),
            SensorRow(label: "Processes ended before they could be read", value: String(statistics.processes.missed), bad: false),
            SensorRow(label: "Readings (every \(Self.seconds(host.monitor.configuration.networkInterval)) s)", value: String(statistics.readings), bad: false),
            SensorRow(label: "Sampler CPU use (of one core)", value: String(format: "%.2f %%", statistics.cpuSharePercent), bad: statistics.cpuSharePercent >= 1),
            SensorRow(label: "Events (refused by a full pipeline)", value: "\(statistics.events) (\(statistics.refused))", bad: statistics.refused > 0),
            SensorRow(label: "Last reading: vanished, unreadable, malformed", value: "\(counts.vanishedProcesses), \(counts.unreadable), \(counts.malformed)", bad: counts.malformed > 0),
            SensorRow(label: "Last reading: broken socket lines", value: String(counts.rejectedSocketLines), bad: counts.rejectedSocketLines > 0),
        ]
        if statistics.processes.overruns > 0 {
            sensors.append(SensorRow(label: "Connector overruns (events lost in bursts)", value: String(statistics.processes.overruns), bad: true))
        }
        return try await request.view.render("host", SystemContext(
            user: LayoutUser(principal), score: score, running: true, hostname: sample.hostname, taken: HostViews.time(sample.time), tiles: tiles, cores: cores,
            disks: disks, interfaces: interfaces, charts: charts,
            ranges: ["1h", "24h", "7d"].map { RangeLink(name: $0, href: "/host?range=\($0)", current: $0 == range.name) }, sensors: sensors))
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    // MARK: Processes

    struct ProcessRow: Encodable {
        var pid: Int32
        var parent: Int32
        var user: String
        var name: String
        var commandLine: String
        var executable: String
        var deleted: Bool
        var state: String
        var stateName: String
        var cpu: String
        var memory: String
        var started: String
        var sockets: Int
        var indent: Int
        var suspicious: Bool
    }

    struct SortLink: Encodable { var label: String; var href: String; var current: Bool }
    struct StartRow: Encodable { var time: String; var image: String; var commandLine: String; var user: String; var pid: String }

    struct ProcessesContext: Encodable {
        var title = "Processes"
        var user: LayoutUser
        var running: Bool
        var taken: String
        var rows: [ProcessRow]
        var total: Int
        var shown: Int
        var q: String
        var tree: Bool
        var sorts: [SortLink]
        var treeLink: String
        var listLink: String
        var starts: [StartRow]
    }

    struct ProcessQuery: Content { var sort: String?; var q: String?; var view: String? }

    static let shownLimit = 1000

    @Sendable func processes(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let query = try request.query.decode(ProcessQuery.self)
        let order = try HostQueries.order(query.sort)
        let tree = query.view == "tree"
        let text = FormValues.clean(query.q, maxBytes: 256)
        guard let host = request.secmon.host, let snapshot = host.monitor.latest else {
            return try await request.view.render("host-processes", ProcessesContext(
                user: LayoutUser(principal), running: request.secmon.host != nil, taken: "", rows: [], total: 0, shown: 0, q: text ?? "", tree: tree,
                sorts: [], treeLink: "", listLink: "", starts: []))
        }
        var matching = HostQueries.filter(snapshot.processes, query: text)
        order.sort(&matching)
        let rows: [(HostProcess, Int)] = tree ? ProcessTree(matching).rows.map { ($0.process, $0.depth) } : matching.map { ($0, 0) }
        let starts = try await HostEventStore(database: try request.sqlDatabase()).recent(categories: ["process_creation"], limit: 20).map { row in
            StartRow(time: HostViews.time(row.time.microseconds), image: row.image ?? "", commandLine: row.summary, user: row.user ?? "",
                     pid: row.pid.map(String.init) ?? "")
        }
        func link(sort: String?, view: String?) -> String {
            FormValues.link("/host/processes", [("q", text), ("sort", sort), ("view", view)])
        }
        return try await request.view.render("host-processes", ProcessesContext(
            user: LayoutUser(principal), running: true, taken: HostViews.time(snapshot.system.time),
            rows: rows.prefix(Self.shownLimit).map { process, depth in Self.row(process, depth: min(depth, 12)) },
            total: snapshot.processes.count, shown: min(rows.count, Self.shownLimit), q: text ?? "", tree: tree,
            sorts: HostQueries.ProcessOrder.allCases.map { SortLink(label: $0.rawValue, href: link(sort: $0.rawValue, view: tree ? "tree" : nil), current: $0 == order) },
            treeLink: link(sort: order.rawValue, view: "tree"), listLink: link(sort: order.rawValue, view: nil), starts: starts))
    }

    static func row(_ process: HostProcess, depth: Int) -> ProcessRow {
        let executable = process.executable ?? ""
        let temporary = ["/tmp/", "/var/tmp/", "/dev/shm/"].contains { executable.hasPrefix($0) }
        return ProcessRow(pid: process.pid, parent: process.parent, user: process.user, name: process.name,
                          commandLine: process.commandLine.prefix(utf8Bytes: 600) + (process.commandLine.utf8.count > 600 || process.commandLineTruncated ? "…" : ""),
                          executable: executable, deleted: process.executableDeleted, state: process.state, stateName: process.stateName,
                          cpu: String(format: "%.1f", process.cpuPercent), memory: HostViews.bytes(Double(process.residentBytes)),
                          started: HostViews.time(process.startTime), sockets: process.socketCount, indent: depth,
                          suspicious: process.executableDeleted || temporary)
    }

    // MARK: Network

    struct SocketRow: Encodable {
        var proto: String
        var local: String
        var remote: String
        var state: String
        var pid: String
        var process: String
        var user: String
        var processLink: String?
    }

    struct OwnerRow: Encodable { var pid: Int32; var name: String; var connections: Int; var listening: Int; var href: String }
    struct ConnectionEventRow: Encodable { var time: String; var image: String; var summary: String; var category: String }

    struct NetworkContext: Encodable {
        var title = "Network"
        var user: LayoutUser
        var running: Bool
        var taken: String
        var listening: [SocketRow]
        var connections: [SocketRow]
        var owners: [OwnerRow]
        var q: String
        var pid: String
        var pidName: String
        var recent: [ConnectionEventRow]
    }

    struct NetworkQuery: Content { var q: String?; var pid: Int32? }

    @Sendable func network(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let query = try request.query.decode(NetworkQuery.self)
        let text = FormValues.clean(query.q, maxBytes: 128)
        guard let host = request.secmon.host, let snapshot = host.monitor.latest else {
            return try await request.view.render("host-network", NetworkContext(
                user: LayoutUser(principal), running: request.secmon.host != nil, taken: "", listening: [], connections: [], owners: [], q: text ?? "",
                pid: "", pidName: "", recent: []))
        }
        let users = Dictionary(snapshot.processes.map { ($0.pid, $0.user) }, uniquingKeysWith: { first, _ in first })
        let sockets = HostQueries.sockets(snapshot.sockets, pid: query.pid, query: text)
        func row(_ socket: HostSocket) -> SocketRow {
            func endpoint(_ address: String, _ port: UInt16) -> String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
            return SocketRow(proto: socket.proto, local: endpoint(socket.localAddress, socket.localPort),
                             remote: socket.remotePort == 0 ? "*" : endpoint(socket.remoteAddress, socket.remotePort), state: socket.state,
                             pid: socket.pid.map(String.init) ?? "", process: socket.process ?? "", user: socket.pid.flatMap { users[$0] } ?? "",
                             processLink: socket.pid.map { "/host/processes?q=\($0)" })
        }
        let listening = sockets.filter(\.isListening).sorted { ($0.localPort, $0.proto) < ($1.localPort, $1.proto) }
        let connections = sockets.filter { !$0.isListening && $0.remotePort != 0 }
            .sorted { ($0.state, $0.remoteAddress, $0.remotePort) < ($1.state, $1.remoteAddress, $1.remotePort) }
        var owners: [Int32: OwnerRow] = [:]
        for socket in snapshot.sockets {
            guard let pid = socket.pid else { continue }
            var owner = owners[pid] ?? OwnerRow(pid: pid, name: socket.process ?? "", connections: 0, listening: 0, href: "/host/network?pid=\(pid)")
            if socket.isListening { owner.listening += 1 } else if socket.remotePort != 0 { owner.connections += 1 }
            owners[pid] = owner
        }
        let recent = try await HostEventStore(database: try request.sqlDatabase()).recent(categories: ["network_connection", "network_listen"], limit: 20)
            .map { ConnectionEventRow(time: HostViews.time($0.time.microseconds), image: $0.image ?? "", summary: $0.summary, category: $0.category) }
        return try await request.view.render("host-network", NetworkContext(
            user: LayoutUser(principal), running: true, taken: HostViews.time(snapshot.system.time), listening: listening.prefix(1000).map(row),
            connections: connections.prefix(1000).map(row),
            owners: owners.values.filter { $0.connections + $0.listening > 0 }.sorted { ($0.connections + $0.listening, $1.pid) > ($1.connections + $1.listening, $0.pid) }.prefix(30).map { $0 },
            q: text ?? "", pid: query.pid.map(String.init) ?? "", pidName: query.pid.flatMap { pid in snapshot.processes.first { $0.pid == pid }?.name } ?? "",
            recent: Array(recent)))
    }
}
