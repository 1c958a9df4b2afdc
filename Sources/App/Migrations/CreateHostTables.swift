import Fluent
import SQLKit

/// Creates `host_events` (the host sensors' events: process starts, connections, new listeners;
/// their fields as the host log writes them) and `host_metrics` (one row per minute, merged into
/// 15-minute rows after a day, deleted after the retention period).
struct CreateHostTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(HostEventStore.table)
            .field("id", .string, .identifier(auto: false))
            .field("ts", .int64, .required)
            .field("category", .string, .required)
            .field("computer", .string, .required)
            .field("image", .string)
            .field("pid", .int64)
            .field("username", .string)
            .field("summary", .string, .required)
            .field("fields", .string, .required)
            .create()
        try await database.schema(HostMetricStore.table)
            .field("ts", .int64, .required)
            .field("seconds", .int, .required)
            .field("computer", .string, .required)
            .field("samples", .int, .required)
            .field("cpu", .double, .required)
            .field("cpu_peak", .double, .required)
            .field("memory", .double, .required)
            .field("swap", .double, .required)
            .field("disk", .double, .required)
            .field("load1", .double, .required)
            .field("rx_bps", .double, .required)
            .field("tx_bps", .double, .required)
            .field("processes", .double, .required)
            .unique(on: "computer", "ts", "seconds")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "host_events_ts_idx").on(HostEventStore.table).column("ts").run()
        try await sql.create(index: "host_events_category_idx").on(HostEventStore.table).column("category").column("ts").run()
        try await sql.create(index: "host_metrics_ts_idx").on(HostMetricStore.table).column("ts").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(HostEventStore.table).delete()
        try await database.schema(HostMetricStore.table).delete()
    }
}
