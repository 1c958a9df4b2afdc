import HostSensors
import SecurityModel
import SQLKit

/// The `host_metrics` table: one row per minute per host; after a day, minutes are merged into
/// 15-minute rows; after the retention period (a week by default) rows are deleted. A week is
/// then about 1,440 + 576 rows per host.
public struct HostMetricStore: Sendable {
    public static let table = "host_metrics"
    /// How long minute rows are kept before they are merged.
    public static let minuteRowsSeconds: Int64 = 24 * 3600
    /// The length of a merged row.
    public static let mergedSeconds = 900

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Stores one point (a minute's, or a merged one).
    public func insert(_ point: MetricPoint, computer: String) async throws {
        try await database.insert(into: Self.table)
            .columns("ts", "seconds", "computer", "samples", "cpu", "cpu_peak", "memory", "swap", "disk", "load1", "rx_bps", "tx_bps", "processes")
            .values(SQLBind(point.time), SQLBind(point.seconds), SQLBind(computer), SQLBind(point.samples), SQLBind(point.cpuPercent),
                    SQLBind(point.cpuPeakPercent), SQLBind(point.memoryPercent), SQLBind(point.swapPercent), SQLBind(point.diskPercent),
                    SQLBind(point.load1), SQLBind(point.receivedBytesPerSecond), SQLBind(point.sentBytesPerSecond), SQLBind(point.processes))
            .run()
    }

    /// The points of `computer` from `since` on, oldest first.
    public func points(computer: String, since: Timestamp) async throws -> [MetricPoint] {
        let rows = try await database.select().column("*").from(Self.table)
            .where("computer", .equal, SQLBind(computer)).where("ts", .greaterThanOrEqual, SQLBind(since.microseconds))
            .orderBy("ts").limit(20_000).all()
        return try rows.map { row in
            MetricPoint(time: try row.decode(column: "ts", as: Int64.self), seconds: try row.decode(column: "seconds", as: Int.self),
                        samples: try row.decode(column: "samples", as: Int.self), cpuPercent: try row.decode(column: "cpu", as: Double.self),
                        cpuPeakPercent: try row.decode(column: "cpu_peak", as: Double.self), memoryPercent: try row.decode(column: "memory", as: Double.self),
                        swapPercent: try row.decode(column: "swap", as: Double.self), diskPercent: try row.decode(column: "disk", as: Double.self),
                        load1: try row.decode(column: "load1", as: Double.self), receivedBytesPerSecond: try row.decode(column: "rx_bps", as: Double.self),
                        sentBytesPerSecond: try row.decode(column: "tx_bps", as: Double.self), processes: try row.decode(column: "processes", as: Double.self))
        }
    }

    /// What one maintenance pass did.
    public struct Maintenance: Sendable, Equatable {
        public var merged = 0
        public var created = 0
        public var deleted = 0
    }

    /// Merges minute rows older than a day into 15-minute rows (whole 15-minute stretches only) and
    /// deletes rows older than `retentionSeconds`.
    public func maintain(now: Timestamp, retentionSeconds: Int64) async throws -> Maintenance {
        var result = Maintenance()
        // Expired rows first: they are not worth merging.
        let expiry = now.microseconds - retentionSeconds * 1_000_000
        result.deleted = try await database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Self.table)
            .where("ts", .lessThan, SQLBind(expiry)).first()?.decode(column: "n", as: Int.self) ?? 0
        if result.deleted > 0 { try await database.delete(from: Self.table).where("ts", .lessThan, SQLBind(expiry)).run() }
        let span = Int64(Self.mergedSeconds) * 1_000_000
        let cutoff = (now.microseconds - Self.minuteRowsSeconds * 1_000_000)
        let boundary = cutoff - ((cutoff % span) + span) % span
        let computers = try await database.select().distinct().column("computer").from(Self.table)
            .where("seconds", .equal, SQLBind(60)).where("ts", .lessThan, SQLBind(boundary)).all()
            .map { try $0.decode(column: "computer", as: String.self) }
        for computer in computers {
            let old = try await points(computer: computer, since: Timestamp(microseconds: 0)).filter { $0.seconds == 60 && $0.time < boundary }
            let buckets = Dictionary(grouping: old) { $0.time - (($0.time % span) + span) % span }
            for (start, points) in buckets.sorted(by: { $0.key < $1.key }) {
                guard let merged = MetricPoint.merge(points, time: start, seconds: Self.mergedSeconds) else { continue }
                try await database.delete(from: Self.table).where("computer", .equal, SQLBind(computer)).where("seconds", .equal, SQLBind(60))
                    .where("ts", .greaterThanOrEqual, SQLBind(start)).where("ts", .lessThan, SQLBind(start + span)).run()
                try await insert(merged, computer: computer)
                result.merged += points.count
                result.created += 1
            }
        }
        return result
    }
}
