/// Leaf contexts, one per page. Leaf escapes every `#(value)`, so user-controlled text is safe in them.
struct LoginContext: Encodable {
    var title = "Log in"
    var csrfToken: String
    var next: String
    var username: String
    var error: String?
}

struct DashboardContext: Encodable {
    var title = "Dashboard"
    var user: LayoutUser
    var recent: [EventRow]
    /// The detection pipeline's state (analysts and admins).
    var pipeline: PipelinePanel?
    /// The live panels (also served alone at `/dashboard/panels`).
    var panels: DashboardPanels
    /// This host at a glance (when the host sensors run).
    var host: HostPanel?
    var version: String
}

/// The dashboard's host card: the latest reading's headline numbers.
struct HostPanel: Encodable {
    struct Gauge: Encodable { var label: String; var value: String; var width: Int; var tone: String }
    var hostname: String
    var gauges: [Gauge]
    var detail: String
    var mode: String

    init?(_ host: HostSensorService?) {
        guard let host, let snapshot = host.monitor.latest else { return nil }
        let sample = snapshot.system
        func gauge(_ label: String, _ value: Double?, warn: Double, bad: Double) -> Gauge {
            let number = value ?? 0
            return Gauge(label: label, value: value.map(HostViews.percent) ?? "–", width: Int(number.rounded()).clamped(0, 100),
                         tone: number >= bad ? "bad" : number >= warn ? "warn" : "ok")
        }
        hostname = sample.hostname
        gauges = [
            gauge("CPU", sample.cpuPercent, warn: 75, bad: 90),
            gauge("Memory", sample.memoryPercent, warn: 85, bad: 95),
            gauge("Fullest disk", sample.disks.map(\.usedPercent).max(), warn: 75, bad: 90),
        ]
        let listening = snapshot.sockets.filter { $0.state == "LISTEN" }.count
        detail = "load \(sample.load.map { String(format: "%.2f", $0.one) } ?? "–") · \(sample.processCount) processes · \(listening) listening TCP ports · up \(HostViews.duration(sample.uptimeSeconds))"
        let statistics = host.monitor.statistics
        mode = statistics.processes.mode == .connector ? "process starts through the process connector" : "process starts by polling /proc"
    }
}

/// The dashboard's detection pipeline card: whether anything was lost, and how fast alerts land.
struct PipelinePanel: Encodable {
    struct Row: Encodable {
        var label: String
        var value: String
        var bad: Bool
    }
    var status: String
    var detection: Bool
    var warnings: [String]
    var rows: [Row]

    init(_ health: PipelineHealth, detailed: Bool) {
        let warnings = health.warnings(detailed: detailed)
        status = warnings.isEmpty ? "ok" : "degraded"
        detection = health.detection != nil
        self.warnings = warnings
        var rows: [Row] = []
        if let detection = health.detection {
            rows.append(Row(label: "Rules loaded", value: "\(detection.rules)", bad: false))
            rows.append(Row(label: "Events run through the rules", value: "\(detection.engine.events)", bad: false))
            rows.append(Row(label: "Alerts raised (open now)", value: "\(detection.engine.alerts) (\(detection.openAlerts))", bad: false))
            rows.append(Row(label: "Live groups (evicted at the cap of \(detection.maxGroupsPerCorrelation) per correlation)",
                            value: "\(detection.engine.liveGroups) (\(detection.engine.evictedGroups))", bad: detection.engine.evictedGroups > 0))
        }
        if let intake = health.intake {
            rows.append(Row(label: "Events refused by detection (queue full)", value: "\(intake.dropped)", bad: intake.dropped > 0))
        }
        for sink in health.sinks {
            rows.append(Row(label: "Alert updates written by \(sink.name)", value: "\(sink.written)", bad: false))
            rows.append(Row(label: "Alert updates dropped by \(sink.name) (failed writes)", value: "\(sink.dropped) (\(sink.failures))",
                            bad: sink.dropped > 0 || sink.queued > 0 && sink.failures > 0))
        }
        rows.append(Row(label: "Event rows dropped (database failing)", value: "\(health.eventRows.dropped)", bad: health.eventRows.dropped > 0))
        rows.append(Row(label: "Activity log lines dropped (failed writes)", value: "\(health.activityLog.linesDropped) (\(health.activityLog.writeErrors))",
                        bad: health.activityLog.linesDropped > 0))
        if let latency = health.alertLatency, let p50 = latency.percentile(0.5), let p99 = latency.percentile(0.99) {
            rows.append(Row(label: "Event to stored alert, p50 / p99", value: "\(p50) ms / \(p99) ms", bad: p99 > 1000))
        }
        self.rows = rows
    }
}

struct CountTile: Encodable {
    var label: String
    var value: Int
    var tone: String
}

/// An event of the event search and the alerts it took part in.
struct ActivityRowView: Encodable {
    var event: EventRow
    var alerts: [AlertLink]
}

/// A link to an alert's incident (or to its rule's alerts when it has none yet).
struct AlertLink: Encodable {
    var rule: String
    var href: String
}

struct ActivityContext: Encodable {
    var title = "Events"
    var user: LayoutUser
    var events: [ActivityRowView]
    var ip: String
    var username: String
    var action: String
    var actions: [String]
    /// The next page of older events, with every filter value percent-encoded.
    var olderLink: String?
    var since: String
    var until: String
    var path: String
    var q: String
}

struct PasswordContext: Encodable {
    var title = "Change password"
    var user: LayoutUser
    var error: String?
    var forced: Bool
}

struct UsersContext: Encodable {
    var title = "Users"
    var user: LayoutUser
    var users: [UserRow]
    var roles: [String]
    var notice: String?
    var error: String?
    var secret: String?
}

struct UserRow: Encodable {
    var id: String
    var username: String
    var role: String
    var locked: Bool
    var autoLocked: Bool
    /// A lock by active response in force: until when and why.
    var responseLock: String?
    var mustChangePassword: Bool
    var lastLogin: String
    var isSelf: Bool
}
