import Incidents
import SecurityModel
import Vapor

/// The alert list: every alert live detection raised, filtered and paged, each with its incident.
struct AlertsController {
    static let pageSize = 50

    struct ListQuery: Content {
        var level: String?
        var status: String?
        var rule: String?
        var since: String?
        var until: String?
        var page: Int?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "alerts", access: .role(.viewer), use: list)
    }

    @Sendable func list(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let query = try request.query.decode(ListQuery.self)
        var filter = AlertStore.Filter()
        if let level = try FormValues.choice(query.level, field: "level", as: Severity.self) { filter.levels = [level] }
        if let status = try FormValues.choice(query.status, field: "status", as: SecurityAlert.Status.self) { filter.status = status.rawValue }
        filter.rule = FormValues.clean(query.rule, maxBytes: 128)
        filter.since = try FormValues.time(query.since, field: "since")
        filter.until = try FormValues.time(query.until, field: "until")
        let page = try FormValues.page(query.page)
        filter.limit = Self.pageSize
        filter.offset = (page - 1) * Self.pageSize
        let (rows, total) = try await AlertStore(database: try request.sqlDatabase()).list(filter)
        let link = { (page: Int) in
            FormValues.link("/alerts", [("level", query.level), ("status", query.status), ("rule", query.rule),
                                        ("since", query.since), ("until", query.until), ("page", String(page))])
        }
        return try await request.view.render("alerts", AlertListContext(
            user: LayoutUser(principal), alerts: rows.map { IncidentsController.alertView($0.alert, incident: $0.incident) },
            levels: Option.list(Severity.allCases.reversed().map { ($0.rawValue, $0.rawValue) }, selected: query.level, any: "Any"),
            statuses: Option.list([("open", "Open"), ("closed", "Closed")], selected: query.status, any: "Any"),
            rule: filter.rule ?? "", since: query.since ?? "", until: query.until ?? "",
            pager: Pager(page: page, pageSize: Self.pageSize, total: total, link: link)))
    }
}
