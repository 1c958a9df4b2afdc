/// A host's threat score from 0 to 100, from four factors with weights (the platform's risk
/// framework: system 25 %, processes 30 %, network 25 %, file integrity 20 %), where every point
/// is explained: each factor's points are a list of contributions, each naming its evidence and,
/// for alerts, the alert. Pure: the app gathers the evidence, this adds it up.
public enum ThreatScorer {
    /// Points an open alert adds to its factor, by level.
    public static func points(forLevel level: String) -> Double {
        switch level.lowercased() {
        case "critical": 60
        case "high": 40
        case "medium": 25
        case "low": 10
        default: 0
        }
    }

    /// Points of the other evidence.
    public enum Points {
        public static let cpuSaturated = 40.0        // CPU at 90 % or more
        public static let memoryExhausted = 40.0     // memory at 95 % or more
        public static let diskFull = 20.0            // a file system at 95 % or more
        public static let suspiciousProcess = 15.0   // running from a temporary directory or a deleted file
        public static let criticalFileChange = 30.0  // an open change to accounts, sudo, SSH keys, or a new setuid bit
        public static let fileChange = 10.0          // any other open file integrity change
        public static let maliciousScan = 50.0       // a malicious scan verdict in the last 24 hours
        public static let suspiciousScan = 20.0      // a suspicious one
    }

    /// Scores `evidence` with `weights`.
    public static func score(_ evidence: ThreatEvidence, weights: ThreatWeights = .standard) -> HostThreatScore {
        var contributions: [ThreatFactor: [ThreatContribution]] = [:]
        func add(_ factor: ThreatFactor, _ points: Double, _ text: String, alert: String? = nil) {
            guard points > 0 else { return }
            contributions[factor, default: []].append(ThreatContribution(points: points, evidence: text, alertID: alert))
        }
        if let cpu = evidence.cpuPercent, cpu >= 90 { add(.system, Points.cpuSaturated, "CPU at \(Self.format(cpu)) % (90 % or more)") }
        if let memory = evidence.memoryPercent, memory >= 95 { add(.system, Points.memoryExhausted, "memory at \(Self.format(memory)) % (95 % or more)") }
        if let disk = evidence.fullestDisk, disk.percent >= 95 { add(.system, Points.diskFull, "\(disk.mount) at \(Self.format(disk.percent)) % full (95 % or more)") }
        for process in evidence.suspiciousProcesses {
            add(.process, Points.suspiciousProcess, "PID \(process.pid) \(process.name): \(process.reason)")
        }
        for change in evidence.openFileChanges {
            let critical = ThreatEvidence.isCritical(change)
            add(.fileIntegrity, critical ? Points.criticalFileChange : Points.fileChange,
                "\(change.kind) \(change.path)\(change.attributes.isEmpty ? "" : " (\(change.attributes.joined(separator: ", ")))")\(critical ? ", a critical file" : "")")
        }
        for scan in evidence.recentScans where scan.verdict != "clean" {
            add(.fileIntegrity, scan.verdict == "malicious" ? Points.maliciousScan : Points.suspiciousScan, "scan of \(scan.name): \(scan.verdict)")
        }
        for alert in evidence.alerts {
            guard let factor = ThreatFactor.forRule(alert.rule) else { continue }
            add(factor, points(forLevel: alert.level), "\(alert.rule) \(alert.title) (\(alert.level))", alert: alert.id)
        }
        var factors: [ThreatFactorScore] = []
        for factor in ThreatFactor.allCases {
            // Largest first: the top contributors lead.
            let items = (contributions[factor] ?? []).sorted { $0.points > $1.points || ($0.points == $1.points && $0.evidence < $1.evidence) }
            let sum = items.reduce(0) { $0 + $1.points }
            let raw = min(100, sum)
            let weight = weights.weight(factor)
            factors.append(ThreatFactorScore(factor: factor, weight: weight, points: sum, capped: raw, weighted: raw * weight, contributions: items))
        }
        let weighted = min(100, factors.reduce(0) { $0 + $1.weighted })
        // The most severe host alert holds the score up: weighted factors alone would call a host
        // with a live reverse shell (one critical alert, 18 points) "low".
        var floor: ThreatFloor?
        for alert in evidence.alerts where ThreatFactor.forRule(alert.rule) != nil {
            let value = floorValue(forLevel: alert.level)
            if value > (floor?.value ?? 0) {
                floor = ThreatFloor(value: value, evidence: "\(alert.rule) \(alert.title) (\(alert.level))", alertID: alert.id)
            }
        }
        let total = max(weighted, floor?.value ?? 0)
        return HostThreatScore(total: (total * 10).rounded() / 10, weighted: (weighted * 10).rounded() / 10,
                               floor: floor.flatMap { $0.value > weighted ? $0 : nil }, factors: factors)
    }

    /// The least score a host alert of `level` leaves: critical 75 (critical), high 50 (high),
    /// medium 25 (elevated); low and informational none.
    public static func floorValue(forLevel level: String) -> Double {
        switch level.lowercased() {
        case "critical": 75
        case "high": 50
        case "medium": 25
        default: 0
        }
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// The four factors of a host's score.
public enum ThreatFactor: String, Sendable, Codable, CaseIterable {
    case system, process, network
    case fileIntegrity = "file_integrity"

    /// As the page names it.
    public var label: String {
        switch self {
        case .system: "System"
        case .process: "Processes"
        case .network: "Network"
        case .fileIntegrity: "File integrity"
        }
    }

    /// The factor an alert of rule `label` counts in, or nil for rules about something else than
    /// the host (the web application's D- rules): H-10 and H-11 (CPU, memory) are the system,
    /// H-01 to H-03 (listening ports, connections) the network, the other H- rules processes,
    /// F- (file integrity) and S- (scanner) rules file integrity.
    public static func forRule(_ label: String) -> ThreatFactor? {
        let upper = label.uppercased()
        if ["H-10", "H-11"].contains(upper) { return .system }
        if ["H-01", "H-02", "H-03"].contains(upper) { return .network }
        if upper.hasPrefix("H-") { return .process }
        if upper.hasPrefix("F-") || upper.hasPrefix("S-") { return .fileIntegrity }
        return nil
    }
}

/// The weights of the four factors; they add up to 1.
public struct ThreatWeights: Sendable, Codable, Equatable {
    public var system: Double
    public var process: Double
    public var network: Double
    public var fileIntegrity: Double

    public init(system: Double, process: Double, network: Double, fileIntegrity: Double) {
        self.system = system
        self.process = process
        self.network = network
        self.fileIntegrity = fileIntegrity
    }

    /// The platform's risk framework: system performance 0.25, process behaviour 0.30, network
    /// activity 0.25, file integrity 0.20.
    public static let standard = ThreatWeights(system: 0.25, process: 0.30, network: 0.25, fileIntegrity: 0.20)

    public func weight(_ factor: ThreatFactor) -> Double {
        switch factor {
        case .system: system
        case .process: process
        case .network: network
        case .fileIntegrity: fileIntegrity
        }
    }

    /// Why these weights cannot be used, or nil: each from 0 to 1, adding up to 1.
    public var problem: String? {
        let all = [system, process, network, fileIntegrity]
        if let bad = all.first(where: { !$0.isFinite || $0 < 0 || $0 > 1 }) { return "a weight of \(bad) is not between 0 and 1" }
        let sum = all.reduce(0, +)
        if abs(sum - 1) > 0.001 { return "the weights add up to \(ThreatScorer.format(sum * 100)) %, not 100 %" }
        return nil
    }
}

/// What a host's score is made of.
public struct ThreatEvidence: Sendable, Equatable {
    public struct Alert: Sendable, Equatable {
        public var id: String
        public var rule: String
        public var title: String
        public var level: String
        public init(id: String, rule: String, title: String, level: String) {
            self.id = id
            self.rule = rule
            self.title = title
            self.level = level
        }
    }

    public struct Process: Sendable, Equatable {
        public var pid: Int32
        public var name: String
        public var reason: String
        public init(pid: Int32, name: String, reason: String) {
            self.pid = pid
            self.name = name
            self.reason = reason
        }
    }

    public struct FileChange: Sendable, Equatable {
        public var path: String
        public var kind: String
        public var attributes: [String]
        /// A setuid or setgid bit that the baseline did not have.
        public var gainedSetuid: Bool
        public init(path: String, kind: String, attributes: [String] = [], gainedSetuid: Bool = false) {
            self.path = path
            self.kind = kind
            self.attributes = attributes
            self.gainedSetuid = gainedSetuid
        }
    }

    public struct Scan: Sendable, Equatable {
        public var name: String
        public var verdict: String
        public init(name: String, verdict: String) {
            self.name = name
            self.verdict = verdict
        }
    }

    public var cpuPercent: Double?
    public var memoryPercent: Double?
    public var fullestDisk: (mount: String, percent: Double)?
    public var suspiciousProcesses: [Process]
    public var openFileChanges: [FileChange]
    public var recentScans: [Scan]
    public var alerts: [Alert]

    public init(cpuPercent: Double? = nil, memoryPercent: Double? = nil, fullestDisk: (mount: String, percent: Double)? = nil,
                suspiciousProcesses: [Process] = [], openFileChanges: [FileChange] = [], recentScans: [Scan] = [], alerts: [Alert] = []) {
        self.cpuPercent = cpuPercent
        self.memoryPercent = memoryPercent
        self.fullestDisk = fullestDisk
        self.suspiciousProcesses = suspiciousProcesses
        self.openFileChanges = openFileChanges
        self.recentScans = recentScans
        self.alerts = alerts
    }

    public static func == (lhs: ThreatEvidence, rhs: ThreatEvidence) -> Bool {
        lhs.cpuPercent == rhs.cpuPercent && lhs.memoryPercent == rhs.memoryPercent && lhs.fullestDisk?.mount == rhs.fullestDisk?.mount
            && lhs.fullestDisk?.percent == rhs.fullestDisk?.percent && lhs.suspiciousProcesses == rhs.suspiciousProcesses
            && lhs.openFileChanges == rhs.openFileChanges && lhs.recentScans == rhs.recentScans && lhs.alerts == rhs.alerts
    }

    /// Files whose change means accounts, privileges or remote access changed.
    public static let criticalPaths = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers", "/etc/ssh/sshd_config"]
    public static let criticalDirectories = ["/etc/sudoers.d/", "/root/.ssh/", "/etc/cron.d/", "/etc/systemd/system/"]

    static func isCritical(_ change: FileChange) -> Bool {
        change.gainedSetuid || criticalPaths.contains(change.path) || criticalDirectories.contains { change.path.hasPrefix($0) }
            || change.path.hasSuffix("/.ssh/authorized_keys")
    }
}

/// One piece of evidence and the points it adds.
public struct ThreatContribution: Sendable, Codable, Equatable {
    public var points: Double
    public var evidence: String
    /// The alert it comes from, if any.
    public var alertID: String?
}

/// One factor's part of the score.
public struct ThreatFactorScore: Sendable, Codable, Equatable {
    public var factor: ThreatFactor
    public var weight: Double
    /// The sum of its contributions.
    public var points: Double
    /// That sum, capped at 100.
    public var capped: Double
    /// `capped × weight`: what the factor adds to the total.
    public var weighted: Double
    public var contributions: [ThreatContribution]
}

/// The least score the most severe host alert leaves, and that alert.
public struct ThreatFloor: Sendable, Codable, Equatable {
    public var value: Double
    public var evidence: String
    public var alertID: String?
}

/// A host's score with its factors.
public struct HostThreatScore: Sendable, Codable, Equatable {
    /// From 0 to 100, to one decimal: the weighted factors, or the floor when that is higher.
    public var total: Double
    /// The weighted factors' sum.
    public var weighted: Double
    /// The floor that raised the total above the weighted sum, if one did.
    public var floor: ThreatFloor?
    public var factors: [ThreatFactorScore]

    public init(total: Double, weighted: Double? = nil, floor: ThreatFloor? = nil, factors: [ThreatFactorScore]) {
        self.total = total
        self.weighted = weighted ?? total
        self.floor = floor
        self.factors = factors
    }

    /// `low` (under 25), `elevated` (25 to 49), `high` (50 to 74), `critical` (75 and more).
    public var level: String {
        switch total {
        case ..<25: "low"
        case ..<50: "elevated"
        case ..<75: "high"
        default: "critical"
        }
    }

    /// The contributions that weigh most in the total, largest first, each with the points it
    /// adds to the total: its points × its factor's weight, scaled down in a factor over its cap
    /// of 100, so that the contributions of all factors add up to the total.
    public func topContributors(_ count: Int = 5) -> [(factor: ThreatFactor, contribution: ThreatContribution, weighted: Double)] {
        var all: [(factor: ThreatFactor, contribution: ThreatContribution, weighted: Double)] = []
        for factor in factors where factor.points > 0 {
            let scale: Double = factor.weight * factor.capped / factor.points
            for contribution in factor.contributions { all.append((factor.factor, contribution, contribution.points * scale)) }
        }
        all.sort { a, b in a.weighted > b.weighted || (a.weighted == b.weighted && a.contribution.evidence < b.contribution.evidence) }
        return Array(all.prefix(count))
    }
}
