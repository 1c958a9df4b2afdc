import SecurityModel
import Vapor

/// The audit page (admins): every action by a person or by SecMon, newest first, filtered.
struct AuditController {
    struct ListQuery: Content {
        var actor: String?
        var action: String?
        var target: String?
        var since: String?
        var until: String?
        var before: Int64?
    }

    struct Row: Encodable {
        var seq: Int64
        var time: String
        var actor: String
        var system: Bool
        var sourceIP: String
        var action: String
        var target: String
        var before: String?
        var after: String?
    }

    struct Context: Encodable {
        var title = "Audit trail"
        var user: LayoutUser
        var rows: [Row]
        var actor: String
        var action: String
        var target: String
        var since: String
        var until: String
        var older: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "admin", "audit", access: .role(.admin), use: list)
    }

    @Sendable func list(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let query = try request.query.decode(ListQuery.self)
        var filter = AuditTrail.Filter()
        filter.actor = FormValues.clean(query.actor, maxBytes: 128)
        filter.action = FormValues.clean(query.action, maxBytes: 64)
        filter.target = FormValues.clean(query.target, maxBytes: 256)
        filter.since = try FormValues.time(query.since, field: "since")
        filter.until = try FormValues.time(query.until, field: "until")
        filter.before = query.before
        filter.limit = 100
        let entries = try await AuditTrail.entries(filter, on: try request.sqlDatabase())
        let older = entries.count == filter.limit ? entries.last.map { last in
            FormValues.link("/admin/audit", [("actor", query.actor), ("action", query.action), ("target", query.target),
                                             ("since", query.since), ("until", query.until), ("before", String(last.seq))])
        } : nil
        return try await request.view.render("audit", Context(
            user: LayoutUser(principal),
            rows: entries.map { Row(seq: $0.seq, time: FormValues.display($0.time), actor: $0.actor.name, system: $0.actor.kind == .system,
                                    sourceIP: $0.actor.sourceIP ?? "", action: $0.action, target: $0.target, before: $0.before, after: $0.after) },
            actor: query.actor ?? "", action: query.action ?? "", target: query.target ?? "", since: query.since ?? "", until: query.until ?? "",
            older: older))
    }
}
