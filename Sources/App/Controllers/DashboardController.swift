import Incidents
import SecurityModel
import SQLKit
import Vapor

/// The home page, and the activity page that lists the event log.
struct DashboardController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, access: .role(.viewer), use: dashboard)
        routes.secured(.GET, "dashboard", "panels", access: .role(.viewer), use: panelsFragment)
        routes.secured(.GET, "activity", access: .role(.analyst), use: activity)
    }

    @Sendable func dashboard(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let store = try request.eventStore()
        let recent = principal.role.includes(.analyst)
            ? try await store.recent(.init(limit: 15)).map(EventRow.init) : []
        let pipeline = principal.role.includes(.analyst)
            ? PipelinePanel(request.secmon.runtime.health, detailed: principal.role.includes(.admin)) : nil
        return try await request.view.render("dashboard", DashboardContext(
            user: LayoutUser(principal), recent: recent, pipeline: pipeline, panels: try await Self.panels(request),
            host: HostPanel(request.secmon.host), version: SecMonVersion.current
        ))
    }

    /// The live panels alone (the dashboard's script fetches them when the feed says something changed).
    @Sendable func panelsFragment(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        return try await request.view.render("dashboard-panels", PanelsContext(user: LayoutUser(principal), panels: try await Self.panels(request)))
    }

    struct PanelsContext: Encodable {
        var user: LayoutUser
        var panels: DashboardPanels
    }

    static func panels(_ request: Request) async throws -> DashboardPanels {
        let now = Timestamp.now()
        let incidents = IncidentStore(database: request.db)
        let openCounts = try await incidents.openCounts()
        var newest = IncidentStore.Filter()
        newest.statuses = IncidentStatus.openStatuses
        newest.limit = 8
        let open = try await incidents.list(newest).rows
        let metrics = try await incidents.metrics(since: Timestamp(microseconds: now.microseconds &- 30 * 86_400_000_000))
        let weekAgo = Timestamp(microseconds: now.microseconds &- 7 * 86_400_000_000)
        let alerts = try await AlertStore(database: try request.sqlDatabase()).summaries(since: weekAgo)
        var hour = TimeHistogram.hour(now: now.microseconds), day = TimeHistogram.day(now: now.microseconds), week = TimeHistogram.week(now: now.microseconds)
        var bySeverity: [Severity: Int] = [:]
        var sources: [String: Int] = [:], users: [String: Int] = [:]
        let dayAgo = now.microseconds &- 86_400_000_000
        for alert in alerts {
            hour.add(alert.first); day.add(alert.first); week.add(alert.first)
            guard alert.first >= dayAgo else { continue }
            bySeverity[alert.level, default: 0] += 1
            for entity in alert.entities {
                if entity.kind == .ip { sources[entity.value, default: 0] += 1 }
                if entity.kind == .user, entity.value != ActivityEvent.anonymous { users[entity.value, default: 0] += 1 }
            }
        }
        let actions = try await request.eventStore().countsByAction(since: Timestamp(microseconds: dayAgo))
        let tiles = [
            CountTile(label: "Logins (24 h)", value: actions[ActivityAction.loginSuccess.rawValue] ?? 0, tone: "ok"),
            CountTile(label: "Failed logins (24 h)", value: (actions[ActivityAction.loginFailure.rawValue] ?? 0) + (actions[ActivityAction.loginThrottled.rawValue] ?? 0), tone: "warn"),
            CountTile(label: "API requests (24 h)", value: actions[ActivityAction.apiRequest.rawValue] ?? 0, tone: "info"),
            CountTile(label: "Refused by response (24 h)", value: (actions[ActivityAction.requestBlocked.rawValue] ?? 0) + (actions[ActivityAction.requestRateLimited.rawValue] ?? 0), tone: "warn"),
        ]
        func top(_ counts: [String: Int]) -> [DashboardPanels.TopRow] {
            counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map { .init(value: $0.key, alerts: $0.value) }
        }
        let health = request.secmon.runtime.health
        let responses = request.secmon.runtime.responses
        let rate = request.secmon.live.eventsPerSecond
        return DashboardPanels(
            counts: tiles,
            alertsBySeverity: Severity.allCases.reversed().map { CountTile(label: $0.rawValue, value: bySeverity[$0] ?? 0, tone: $0.rawValue) },
            charts: [
                DashboardPanels.chart(id: "chart-hour", title: "Last hour (5 min)", hour, label: { DashboardPanels.clock($0) }),
                DashboardPanels.chart(id: "chart-day", title: "Last day (hours)", day, label: { DashboardPanels.clock($0) }),
                DashboardPanels.chart(id: "chart-week", title: "Last week (days)", week, label: { DashboardPanels.clock($0, date: true) }),
            ],
            topSources: top(sources), topUsers: top(users),
            openIncidents: openCounts.values.reduce(0, +),
            incidentsBySeverity: IncidentSeverity.allCases.reversed().map { CountTile(label: $0.label, value: openCounts[$0] ?? 0, tone: $0.rawValue) },
            newest: open.map { .init(row: IncidentRow($0), age: DashboardPanels.age((now.microseconds &- $0.created.microseconds) / 1_000_000)) },
            blocks: responses.count, rateLimits: responses.limitCount, refused: responses.refusedRequests, limited: responses.limitedRequests,
            mtta: IncidentMetrics.duration(metrics.overall.acknowledgeSeconds), mttr: IncidentMetrics.duration(metrics.overall.resolveSeconds),
            eventsPerSecond: String(format: "%.1f", rate),
            droppedEvents: (health.intake?.dropped ?? 0) &+ health.eventRows.dropped, evictedGroups: health.detection?.engine.evictedGroups ?? 0,
            liveClients: request.secmon.live.statistics.connected, generated: String(now.iso8601.prefix(19)).replacingOccurrences(of: "T", with: " "))
    }

    @Sendable func activity(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let filter = try EventsQuery.filter(from: request)
        let query = try request.query.decode(EventsQuery.Parameters.self)
        let events = try await request.eventStore().recent(filter).map(EventRow.init)
        let older = events.count == filter.limit ? events.last.map { EventsQuery.olderLink(filter, before: $0.timestamp) } : nil
        let alerts = try await AlertStore(database: try request.sqlDatabase()).alerts(forEvents: events.map(\.eventID))
        let rows = events.map { event in
            ActivityRowView(event: event, alerts: (alerts[event.eventID] ?? []).map { alert in
                AlertLink(rule: alert.rule, href: alert.incident.map { "/incidents/\($0)" } ?? "/alerts?rule=\(alert.rule)")
            })
        }
        return try await request.view.render("activity", ActivityContext(
            user: LayoutUser(principal), events: rows, ip: filter.ipAddress ?? "", username: filter.username ?? "",
            action: filter.action ?? "", actions: ActivityAction.applicationActions.map(\.rawValue), olderLink: older,
            since: query.since ?? "", until: query.until ?? "", path: filter.path ?? "", q: filter.text ?? ""
        ))
    }
}

/// The query parameters of the event listings (`/activity`, `/api/events`).
enum EventsQuery {
    struct Parameters: Content {
        var ip: String?
        var user: String?
        var action: String?
        var before: String?
        var limit: Int?
        /// One event by id (an alert's evidence).
        var event: String?
        /// Time range (`2026-12-01`, `2026-12-01T08:30` or ISO 8601; UTC unless a zone is given).
        var since: String?
        var until: String?
        /// A prefix of the request path.
        var path: String?
        /// Free text: user, attempted user, address, path or user agent containing it.
        var q: String?
    }

    /// The link to the next page of older events, with the same filters. Every value is
    /// percent-encoded (`+` and `&` included): a user name or address typed into a filter cannot
    /// add parameters.
    static func olderLink(_ filter: EventStore.Filter, before: String) -> String {
        var components = URLComponents()
        components.path = "/activity"
        components.queryItems = [("ip", filter.ipAddress), ("user", filter.username), ("action", filter.action),
                                 ("since", filter.since.map { $0.iso8601 }), ("path", filter.path), ("q", filter.text), ("before", before)]
            .compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? "/activity"
    }

    static func filter(from request: Request) throws -> EventStore.Filter {
        let query = try request.query.decode(Parameters.self)
        func clean(_ s: String?) -> String? {
            guard let s = s?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
            return s.prefix(utf8Bytes: 256)
        }
        var before: Timestamp?
        if let text = clean(query.before) {
            guard let parsed = Timestamp(iso8601: text) else {
                throw Abort(.badRequest, reason: "Parameter 'before' must be an ISO 8601 time such as 2026-02-24T05:30:03.451967.")
            }
            before = parsed
        }
        if let limit = query.limit, !(1...1000).contains(limit) {
            throw Abort(.badRequest, reason: "Parameter 'limit' must be between 1 and 1000.")
        }
        var filter = EventStore.Filter(ipAddress: clean(query.ip), username: clean(query.user), action: clean(query.action)?.uppercased(),
                                       before: before, limit: query.limit ?? 100)
        filter.eventID = clean(query.event)
        filter.path = clean(query.path)
        filter.text = clean(query.q)
        do {
            filter.since = try FormValues.time(query.since, field: "since")
            if let until = try FormValues.time(query.until, field: "until") {
                filter.before = filter.before.map { min($0, until) } ?? until
            }
        } catch {
            throw Abort(.badRequest, reason: "Parameter '\(error.field)': \(error.reason).")
        }
        return filter

    }
}

extension Request {
    /// The event store on this request's database.
    func eventStore() throws -> EventStore {
        guard let sql = db as? any SQLDatabase else { throw Abort(.internalServerError, reason: "The database does not speak SQL.") }
        return EventStore(database: sql)
    }
}
