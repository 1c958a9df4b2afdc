import Foundation
import LogFormats
import SecurityModel
import SQLKit

/// The `host_events` table: the host sensors' events, batched in, listed for the console and the
/// API (newest first, by category), and found by id (an alert's evidence).
public struct HostEventStore: Sendable {
    public static let table = "host_events"
    static let columns = ["id", "ts", "category", "computer", "image", "pid", "username", "summary", "fields"]

    /// One stored event.
    public struct Row: Sendable, Equatable {
        public var id: String
        public var time: Timestamp
        public var category: String
        public var computer: String
        public var image: String?
        public var pid: Int64?
        public var user: String?
        /// The command line, the peer (`203.0.113.9:443`) or the port: one line for a list.
        public var summary: String
        /// Every field as the host log writes it (a JSON object).
        public var fields: String
    }

    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// Inserts `events` with one statement.
    public func insert(_ events: [SecurityEvent]) async throws {
        guard !events.isEmpty else { return }
        let encoder = HostEventEncoder()
        var insert = database.insert(into: Self.table).columns(Self.columns)
        for event in events {
            let row = Self.row(event, encoder: encoder)
            insert = insert.values([
                SQLBind(row.id), SQLBind(row.time.microseconds), SQLBind(row.category), SQLBind(row.computer), SQLBind(row.image),
                SQLBind(row.pid), SQLBind(row.user), SQLBind(row.summary), SQLBind(row.fields),
            ])
        }
        try await insert.run()
    }

    /// Newest first, at most `limit`; only these `categories` and `ids` when given.
    public func recent(categories: [String]? = nil, ids: [String]? = nil, before: Timestamp? = nil, limit: Int = 100) async throws -> [Row] {
        if let ids, ids.isEmpty { return [] }
        var query = database.select().columns(Self.columns.map { SQLColumn($0) }).from(Self.table)
        if let categories { query = query.where("category", .in, SQLBind.group(categories)) }
        if let ids { query = query.where("id", .in, SQLBind.group(Array(ids.prefix(1000)))) }
        if let before { query = query.where("ts", .lessThan, SQLBind(before.microseconds)) }
        let rows = try await query.orderBy("ts", .descending).orderBy("id", .descending).limit(max(1, min(limit, 1000))).all()
        return try rows.map { row in
            Row(id: try row.decode(column: "id", as: String.self), time: Timestamp(microseconds: try row.decode(column: "ts", as: Int64.self)),
                category: try row.decode(column: "category", as: String.self), computer: try row.decode(column: "computer", as: String.self),
                image: try row.decode(column: "image", as: String?.self), pid: try row.decode(column: "pid", as: Int64?.self),
                user: try row.decode(column: "username", as: String?.self), summary: try row.decode(column: "summary", as: String.self),
                fields: try row.decode(column: "fields", as: String.self))
        }
    }

    /// Deletes events older than `cutoff`; returns how many.
    @discardableResult
    public func prune(before cutoff: Timestamp) async throws -> Int {
        let count = try await database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Self.table)
            .where("ts", .lessThan, SQLBind(cutoff.microseconds)).first()?.decode(column: "n", as: Int.self) ?? 0
        if count > 0 { try await database.delete(from: Self.table).where("ts", .lessThan, SQLBind(cutoff.microseconds)).run() }
        return count
    }

    /// The row an event is stored as: its fields as the host log line (without the newline).
    static func row(_ event: SecurityEvent, encoder: HostEventEncoder) -> Row {
        func text(_ name: String) -> String? { event[name]?.text }
        let summary: String
        let category = event.source.category ?? event.source.service ?? "log"
        switch category {
        case "process_creation": summary = (text("CommandLine") ?? "").prefix(utf8Bytes: 512)
        case "network_connection":
            summary = "\(text("Initiated") == "true" ? "→" : "←") \(text("DestinationIp") ?? "?"):\(text("DestinationPort") ?? "?") (\(text("Protocol") ?? ""))"
        case "network_listen": summary = "listening on \(text("SourceIp") ?? "?"):\(text("SourcePort") ?? "?") (\(text("Protocol") ?? ""))"
        case "file_event":
            summary = "\(text("ChangeType") ?? "?") \(text("TargetFilename") ?? "?")".prefix(utf8Bytes: 512)
                + ((text("ChangedAttributes") ?? "").isEmpty ? "" : " (\(text("ChangedAttributes") ?? ""))")
        case "antivirus":
            summary = "\(text("Verdict") ?? "?"): \(text("Filename") ?? "?") (\(text("Signature") ?? ""))".prefix(utf8Bytes: 512)
        case "host_metrics":
            summary = ["CpuPercent", "MemoryPercent", "DiskPercent"].compactMap { name in text(name).map { "\(name.dropLast(7)) \($0) %" } }.joined(separator: ", ")
        default:
            // A followed log file's line (sshd, webserver, JSON): the line itself.
            summary = event.raw.prefix(utf8Bytes: 512)
        }
        var line = encoder.encode(event)
        line.removeLast()
        let pid: Int64? = if case .int(let value)? = event["ProcessId"] { value } else { nil }
        // A log line names its host and user in its own fields (syslog's `host` and `user`, JSON's `username`).
        let computer = text("Computer") ?? text("host") ?? text("hostname") ?? event.entities.first { $0.kind == .host }?.value ?? ""
        let user = text("User") ?? text("user") ?? text("username") ?? text("cs-username")
        return Row(id: event.id, time: event.time, category: category, computer: computer,
                   image: text("Image"), pid: pid, user: user, summary: summary, fields: String(decoding: line, as: UTF8.self))
    }
}
