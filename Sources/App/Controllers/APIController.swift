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

    struct Health: Content {
        var status: String
    }

    struct AlertList: Content {
        struct Item: Content {
            var id: String
            var rule: String
            var title: String
            var level: String
            var group: String
            var firstTime: String
            var lastTime: String
            var eventCount: Int
            var events: [String]
            var status: String
            enum CodingKeys: String, CodingKey {
                case id, rule, title, level, group, events, status
                case firstTime = "first_time", lastTime = "last_time", eventCount = "event_count"
            }
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
            .init(id: row.id, rule: row.rule, title: row.title, level: row.level.rawValue, group: row.group,
                  firstTime: row.firstTime.iso8601 + "Z", lastTime: row.lastTime.iso8601 + "Z",
                  eventCount: row.eventCount, events: row.events, status: row.status)
        }, detection: request.application.secmon.recorder.detection != nil)
    }

    @Sendable func health(_ request: Request) async throws -> Health {
        Health(status: "ok")
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
