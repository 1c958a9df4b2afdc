import HostSensors
import SecurityModel
import SQLKit
import Vapor

/// API v1 for the host sensors: the system (viewers), its metric history (viewers), processes,
/// sockets and host events (analysts). 503 when the sensors are off, with how to turn them on.
struct HostAPI {
    func register(_ routes: any RoutesBuilder) {
        let host = routes.grouped("api", "v1", "host")
        host.secured(.GET, "system", access: .role(.viewer), use: system)
        host.secured(.GET, "metrics", access: .role(.viewer), use: metrics)
        host.secured(.GET, "processes", access: .role(.analyst), use: processes)
        host.secured(.GET, "sockets", access: .role(.analyst), use: sockets)
        host.secured(.GET, "events", access: .role(.analyst), use: events)
    }

    struct SystemAnswer: Content {
        var system: SystemSample
        var sensors: HostMonitor.Statistics
    }

    @Sendable func system(_ request: Request) async throws -> SystemAnswer {
        let (host, snapshot) = try HostQueries.reading(request)
        return SystemAnswer(system: snapshot.system, sensors: host.monitor.statistics)
    }

    struct MetricsQuery: Content { var range: String? }
    struct MetricsAnswer: Content {
        var computer: String
        var range: String
        var points: [MetricPoint]
    }

    @Sendable func metrics(_ request: Request) async throws -> MetricsAnswer {
        let host = try HostQueries.sensors(request)
        let range = try HostQueries.range(try request.query.decode(MetricsQuery.self).range)
        let computer = host.monitor.configuration.hostname
        var points = try await HostMetricStore(database: try request.sqlDatabase())
            .points(computer: computer, since: Timestamp(microseconds: Timestamp.now().microseconds - range.seconds * 1_000_000))
        if let current = host.currentPoint { points.append(current) }
        return MetricsAnswer(computer: computer, range: range.name, points: points)
    }

    struct ProcessQuery: Content { var sort: String?; var q: String?; var limit: Int? }
    struct ProcessAnswer: Content {
        var time: String
        var total: Int
        var processes: [HostProcess]
    }

    @Sendable func processes(_ request: Request) async throws -> ProcessAnswer {
        let query = try request.query.decode(ProcessQuery.self)
        let order = try HostQueries.order(query.sort)
        let limit = try ReadAPI.limit(query.limit, max: 5000)
        let (_, snapshot) = try HostQueries.reading(request)
        var matching = HostQueries.filter(snapshot.processes, query: FormValues.clean(query.q, maxBytes: 256))
        order.sort(&matching)
        return ProcessAnswer(time: Timestamp(microseconds: snapshot.system.time).iso8601, total: matching.count, processes: Array(matching.prefix(limit)))
    }

    struct SocketQuery: Content { var pid: Int32?; var q: String?; var state: String? }
    struct SocketAnswer: Content {
        var time: String
        var sockets: [HostSocket]
    }

    @Sendable func sockets(_ request: Request) async throws -> SocketAnswer {
        let query = try request.query.decode(SocketQuery.self)
        let (_, snapshot) = try HostQueries.reading(request)
        var sockets = HostQueries.sockets(snapshot.sockets, pid: query.pid, query: FormValues.clean(query.q, maxBytes: 128))
        switch query.state ?? "all" {
        case "all": break
        case "listening": sockets = sockets.filter(\.isListening)
        case "connected": sockets = sockets.filter { !$0.isListening && $0.remotePort != 0 }
        default: throw Abort(.badRequest, reason: "state must be all, listening or connected, not '\((query.state ?? "").prefix(utf8Bytes: 16))'")
        }
        return SocketAnswer(time: Timestamp(microseconds: snapshot.system.time).iso8601, sockets: sockets)
    }

    struct EventQuery: Content { var category: String?; var limit: Int? }
    struct EventAnswer: Content {
        struct Event: Content {
            var id: String
            var time: String
            var category: String
            var computer: String
            var image: String?
            var pid: Int64?
            var user: String?
            var summary: String
            /// The event's fields as the host log line has them.
            var fields: [String: AnyJSON]
        }
        var events: [Event]
    }

    @Sendable func events(_ request: Request) async throws -> EventAnswer {
        _ = try HostQueries.sensors(request)
        let query = try request.query.decode(EventQuery.self)
        let limit = try ReadAPI.limit(query.limit, max: 1000)
        var categories: [String]?
        if let category = query.category, !category.isEmpty {
            guard LogSource.hostStreams[category] != nil else {
                throw Abort(.badRequest, reason: "category must be one of \(LogSource.hostStreams.keys.sorted().joined(separator: ", "))")
            }
            categories = [category]
        }
        let rows = try await HostEventStore(database: try request.sqlDatabase()).recent(categories: categories, limit: limit)
        return EventAnswer(events: rows.map { row in
            let object = (try? JSONDecoder().decode([String: AnyJSON].self, from: Data(row.fields.utf8))) ?? [:]
            return .init(id: row.id, time: row.time.iso8601, category: row.category, computer: row.computer, image: row.image, pid: row.pid,
                         user: row.user, summary: row.summary, fields: object)
        })
    }
}

/// A JSON scalar of a host event's fields (string, number, boolean or null). Decoded with
/// `JSONDecoder`, which never reads a number as a boolean (`JSONSerialization` on Linux does).
enum AnyJSON: Codable, Sendable {
    case string(String), number(Double), bool(Bool), null

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .null: try container.encodeNil()
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null } else if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .string(try container.decode(String.self)) }
    }
}
