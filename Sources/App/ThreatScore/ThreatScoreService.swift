import EventPipeline
import FileInspection
import Foundation
import HostSensors
import Logging
import SecurityModel
import ServiceLifecycle
import SQLKit
import ThreatScore

/// Computes the host's threat score on a schedule inside `secmon serve` (every minute by
/// default) from what SecMon knows now: the host sensors' latest reading (CPU, memory, disks,
/// processes running from temporary directories or deleted files), the host alerts of the last
/// 24 hours, the open file integrity changes and the scanner's verdicts of the last 24 hours.
/// Each score is stored with its contributions (the score page's history).
public struct ThreatScoreService: Service {
    let database: @Sendable () -> (any SQLDatabase)?
    let host: @Sendable () -> HostSnapshot?
    let weights: ThreatWeights
    let intervalSeconds: Double
    let retentionDays: Int
    let logger: Logger

    public init(database: @escaping @Sendable () -> (any SQLDatabase)?, host: @escaping @Sendable () -> HostSnapshot?, weights: ThreatWeights,
                intervalSeconds: Double, retentionDays: Int, logger: Logger) {
        self.database = database
        self.host = host
        self.weights = weights
        self.intervalSeconds = intervalSeconds
        self.retentionDays = retentionDays
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { _ = try await computeAndStore() } catch { logger.warning("threat score: \(error)") }
                try await Task.sleep(for: .seconds(intervalSeconds))
            }
        }
    }

    /// Computes the score now and stores it.
    @discardableResult
    public func computeAndStore(at now: Timestamp = .now()) async throws -> HostThreatScore {
        guard let sql = database() else { throw FileScanError(path: "database", reason: "not available") }
        let score = ThreatScorer.score(try await evidence(sql, now: now), weights: try await currentWeights(sql))
        let store = HostScoreStore(database: sql)
        try await store.insert(score, at: now)
        try await store.prune(before: Timestamp(microseconds: now.microseconds - Int64(retentionDays) * 86_400_000_000))
        return score
    }

    /// The weights in force: the console's when an administrator saved some, else the configured ones.
    public func currentWeights(_ sql: any SQLDatabase) async throws -> ThreatWeights {
        try await ThreatSettingsStore(database: sql).weights()?.weights ?? weights
    }

    /// What SecMon knows now, as the scorer's evidence.
    func evidence(_ sql: any SQLDatabase, now: Timestamp) async throws -> ThreatEvidence {
        var evidence = ThreatEvidence()
        if let snapshot = host() {
            evidence.cpuPercent = snapshot.system.cpuPercent
            evidence.memoryPercent = snapshot.system.memoryTotalBytes > 0 ? snapshot.system.memoryPercent : nil
            if let fullest = snapshot.system.disks.max(by: { $0.usedPercent < $1.usedPercent }) {
                evidence.fullestDisk = (fullest.mountPoint, fullest.usedPercent)
            }
            for process in snapshot.processes {
                let executable = process.executable ?? ""
                if process.executableDeleted {
                    evidence.suspiciousProcesses.append(.init(pid: process.pid, name: process.name, reason: "runs a deleted file (\(executable))"))
                } else if let directory = ["/tmp/", "/var/tmp/", "/dev/shm/"].first(where: { executable.hasPrefix($0) }) {
                    evidence.suspiciousProcesses.append(.init(pid: process.pid, name: process.name, reason: "runs from \(directory) (\(executable))"))
                }
            }
        }
        let day = Timestamp(microseconds: now.microseconds - 86_400_000_000)
        var filter = AlertStore.Filter()
        filter.since = day
        filter.limit = 500
        let rows = try await AlertStore(database: sql).list(filter).rows.filter { ThreatFactor.forRule($0.alert.rule) != nil }
        // An alert whose incident an analyst resolved or closed no longer counts.
        let incidents = Array(Set(rows.compactMap(\.incident)))
        var handled = Set<String>()
        if !incidents.isEmpty {
            let query = SQLQueryString("SELECT id FROM incidents WHERE status IN ('resolved', 'closed') AND id IN (")
                + incidents.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ") + ")"
            handled = Set(try await sql.raw(query).all().map { try $0.decode(column: "id", as: String.self) })
        }
        evidence.alerts = rows.filter { row in row.incident.map { !handled.contains($0) } ?? true }
            .map { ThreatEvidence.Alert(id: $0.alert.id, rule: $0.alert.rule, title: $0.alert.title, level: $0.alert.level.rawValue) }
        evidence.openFileChanges = try await FileIntegrityStore(database: sql).changes(openOnly: true, limit: 500).map { stored in
            let change = stored.change
            let gained = (change.new?.mode ?? 0) & 0o6000 != 0 && (change.old?.mode ?? 0) & 0o6000 == 0
            return ThreatEvidence.FileChange(path: change.path, kind: change.kind.rawValue, attributes: change.attributes, gainedSetuid: gained)
        }
        evidence.recentScans = try await FileScanStore(database: sql).recent(limit: 500).filter { $0.time.microseconds >= day.microseconds }
            .map { ThreatEvidence.Scan(name: $0.name, verdict: $0.report.verdict.rawValue) }
        return evidence
    }
}
