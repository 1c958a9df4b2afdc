import Foundation
import SecurityModel
import SQLKit
import Vapor

/// The JSON API used by the dashboard and by scripts.
struct APIController {
    struct Status: Content {
        var status: String
        var version: String
        var time: String
        var user: String
        var role: String
        var uptimeSeconds: Int

        enum CodingKeys: String, CodingKey {
            case status, version, time, user, role, uptimeSeconds = "uptime_seconds"
        }
    }

    struct Me: Content {
        var id: String
        var username: String
        var role: String
        var session: String
    }

    struct EventList: Content {
        var events: [EventRow]
        var count: Int
    }

    struct UserList: Content {
        struct Item: Content {
            var id: String
            var username: String
            var role: String
            var locked: Bool
            var mustChangePassword: Bool
            enum CodingKeys: String, CodingKey {
                case id, username, role, locked, mustChangePassword = "must_change_password"
            }
        }
        var users: [Item]
    }


    struct AlertList: Content {
        struct Item: Content {
            var id: String
            var rule: String
            var title: String
            var level: String
            var group: String
            /// The group-by fields and values.
            var groupBy: [GroupValue]
            var entities: [String]
            var node: String
            var firstTime: String
            var lastTime: String
            var eventCount: Int
            var events: [String]
            var status: String
            enum CodingKeys: String, CodingKey {
                case id, rule, title, level, group, events, status, entities, node
                case groupBy = "group_by", firstTime = "first_time", lastTime = "last_time", eventCount = "event_count"
            }
        }
        struct GroupValue: Content {
            var field: String
            var value: String?
        }
        var alerts: [Item]
        /// Whether live detection runs (false when no rules were found at startup).
        var detection: Bool
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "healthz", access: .anyone, use: health)
        let api = routes.grouped("api")
        api.secured(.GET, "status", access: .role(.viewer), use: status)
        api.secured(.GET, "me", access: .role(.viewer), use: me)
        api.secured(.GET, "events", access: .role(.analyst), use: events)
        api.secured(.GET, "users", access: .role(.admin), use: users)
        api.secured(.GET, "alerts", access: .role(.analyst), use: alerts)
    }

    /// The newest alerts raised by live detection (`?limit=`, at most 500).
    @Sendable func alerts(_ request: Request) async throws -> AlertList {
        guard let sql = request.db as? any SQLDatabase else { throw Abort(.internalServerError) }
        let limit = (try? request.query.get(Int.self, at: "limit")) ?? 100
        let rows = try await AlertStore(database: sql).recent(limit: limit)
        return AlertList(alerts: rows.map { row in
            .init(id: row.id, rule: row.rule, title: row.title, level: row.level.rawValue, group: row.groupDescription,
                  groupBy: row.group.map { .init(field: $0.field, value: $0.value) }, entities: row.entities.map(\.description),
                  node: row.node, firstTime: row.firstTime.iso8601 + "Z", lastTime: row.lastTime.iso8601 + "Z",
                  eventCount: row.eventCount, events: row.events, status: row.status)
        }, detection: request.secmon.runtime.detection != nil)
    }

    /// The pipeline's health: `ok` or `degraded` with the warnings, and every stage's counters
    /// (a failing sink's last error only for admins).
    /// Always 200 while the server answers: a counter of past drops must not take a node out of
    /// a load balancer; `status` says `degraded`.
    @Sendable func health(_ request: Request) async throws -> PipelineHealth.Document {
        request.secmon.runtime.health.document(detailed: request.principal?.role.includes(.admin) == true, live: request.secmon.live.statistics)
    }

    @Sendable func status(_ request: Request) async throws -> Status {
        let principal = try request.requirePrincipal()
        return Status(
            status: "ok", version: SecMonVersion.current,
            time: Timestamp(secondsSince1970: Date().timeIntervalSince1970).iso8601 + "Z",
            user: principal.username, role: principal.role.rawValue,
            uptimeSeconds: Int(Date().timeIntervalSince(request.secmon.startedAt))
        )
    }

    @Sendable func me(_ request: Request) async throws -> Me {
        let principal = try request.requirePrincipal()
        return Me(id: principal.userID.uuidString.lowercased(), username: principal.username,
                  role: principal.role.rawValue, session: principal.sessionRef)
    }

    @Sendable func events(_ request: Request) async throws -> EventList {
        let filter = try EventsQuery.filter(from: request)
        let rows = try await request.eventStore().recent(filter).map(EventRow.init)
        return EventList(events: rows, count: rows.count)
    }

    @Sendable func users(_ request: Request) async throws -> UserList {
        let all = try await request.users.all()
        return UserList(users: try all.map {
            .init(id: try $0.requireID().uuidString.lowercased(), username: $0.username, role: $0.role.rawValue,
                  locked: $0.isLocked(at: Date()), mustChangePassword: $0.mustChangePassword)
        })
    }
}
