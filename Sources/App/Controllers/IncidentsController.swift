import EventPipeline
import Foundation
import Incidents
import SecurityModel
import SQLKit
import Vapor

/// The incident list and the incident page, and every analyst action on an incident: status,
/// severity, assignee, title, merge, moving an alert, notes, playbook tasks. Viewers read;
/// analysts and admins triage. A refused change answers the incident page again with the reason
/// and a 4xx status; a done one redirects back to it (303), where the timeline shows it.
struct IncidentsController {
    static let pageSize = 50

    struct ListQuery: Content {
        var status: String?
        var severity: String?
        var rule: String?
        var assignee: String?
        var since: String?
        var until: String?
        var page: Int?
        /// API v1 only: page size and the position after the page before.
        var limit: Int?
        var cursor: String?

        /// The filters the page and API v1 share: `status` is `open` (any unresolved) or one status;
        /// `assignee` empty for anyone, `-` for unassigned.
        func filter() throws(IncidentRefusal) -> IncidentStore.Filter {
            var filter = IncidentStore.Filter()
            let status = FormValues.clean(self.status, maxBytes: 64)
            if status == "open" {
                filter.statuses = IncidentStatus.openStatuses
            } else if let one = try FormValues.choice(status, field: "status", as: IncidentStatus.self) {
                filter.statuses = [one]
            }
            if let severity = try FormValues.choice(severity, field: "severity", as: IncidentSeverity.self) { filter.severities = [severity] }
            filter.rule = FormValues.clean(rule, maxBytes: 128)
            let assignee = FormValues.clean(assignee, maxBytes: 128)
            filter.assignee = assignee == "-" ? "" : assignee
            filter.since = try FormValues.time(since, field: "since")
            filter.until = try FormValues.time(until, field: "until")
            return filter
        }
    }

    struct StatusForm: Content { var status: String?; var resolution: String?; var version: Int? }
    struct SeverityForm: Content { var severity: String?; var version: Int? }
    struct AssignForm: Content { var assignee: String?; var version: Int? }
    struct TitleForm: Content { var title: String?; var version: Int? }
    struct TargetForm: Content { var target: String?; var version: Int? }
    struct NoteForm: Content { var body: String? }
    struct TaskForm: Content { var state: String?; var comment: String? }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "incidents", access: .role(.viewer), use: list)
        routes.secured(.GET, "incidents", ":id", access: .role(.viewer), use: show)
        let incident = routes.grouped("incidents", ":id")
        incident.secured(.POST, "status", access: .role(.analyst), use: status)
        incident.secured(.POST, "severity", access: .role(.analyst), use: severity)
        incident.secured(.POST, "assign", access: .role(.analyst), use: assign)
        incident.secured(.POST, "title", access: .role(.analyst), use: rename)
        incident.secured(.POST, "merge", access: .role(.analyst), use: merge)
        incident.secured(.POST, "alerts", ":alert", "move", access: .role(.analyst), use: moveAlert)
        incident.secured(.POST, "notes", access: .role(.analyst), use: addNote)
        incident.secured(.POST, "tasks", ":position", access: .role(.analyst), use: setTask)
    }

    // MARK: List

    @Sendable func list(_ request: Request) async throws -> View {
        let principal = try request.requirePrincipal()
        let query = try request.query.decode(ListQuery.self)
        var filter = try query.filter()
        let statusText = FormValues.clean(query.status, maxBytes: 64)
        let page = try FormValues.page(query.page)
        filter.limit = Self.pageSize
        filter.offset = (page - 1) * Self.pageSize
        let store = IncidentStore(database: request.db)
        let (rows, total) = try await store.list(filter)
        let metrics = try await store.metrics(since: Timestamp(microseconds: Timestamp.now().microseconds &- 30 * 86_400 * 1_000_000))
        var metricRows = [MetricRow(label: "All", mtta: IncidentMetrics.duration(metrics.overall.acknowledgeSeconds),
                                    mttr: IncidentMetrics.duration(metrics.overall.resolveSeconds),
                                    acknowledged: metrics.overall.acknowledged, resolved: metrics.overall.resolved)]
        for severity in IncidentSeverity.allCases.reversed() {
            let means = metrics.bySeverity[severity]
            metricRows.append(MetricRow(label: severity.label, mtta: IncidentMetrics.duration(means?.acknowledgeSeconds),
                                        mttr: IncidentMetrics.duration(means?.resolveSeconds),
                                        acknowledged: means?.acknowledged ?? 0, resolved: means?.resolved ?? 0))
        }
        let ages = zip(IncidentMetrics.ageBrackets, metrics.openByAge).map { bracket, count in
            CountTile(label: "open \(bracket.label)", value: count, tone: count > 0 && (bracket.upToSeconds ?? .max) > 86_400 ? "warn" : "info")
        }
        let link = { (page: Int) in
            FormValues.link("/incidents", [("status", query.status), ("severity", query.severity), ("rule", query.rule), ("assignee", query.assignee),
                                           ("since", query.since), ("until", query.until), ("page", String(page))])
        }
        return try await request.view.render("incidents", IncidentListContext(
            user: LayoutUser(principal), incidents: rows.map(IncidentRow.init),
            statuses: Option.list([("open", "Open (not resolved)")] + IncidentStatus.allCases.map { ($0.rawValue, $0.label) }, selected: statusText, any: "Any"),
            severities: Option.list(IncidentSeverity.allCases.reversed().map { ($0.rawValue, $0.label) }, selected: query.severity, any: "Any"),
            assignees: try await Self.assigneeOptions(request, selected: query.assignee, includeUnassigned: "-"),
            rule: filter.rule ?? "", since: query.since ?? "", until: query.until ?? "",
            pager: Pager(page: page, pageSize: Self.pageSize, total: total, link: link),
            open: metrics.open, mtta: metricRows[0].mtta, mttr: metricRows[0].mttr, metrics: metricRows, ages: ages))
    }

    // MARK: The incident page

    @Sendable func show(_ request: Request) async throws -> Response {
        try await render(request, id: try Self.id(request))
    }

    func render(_ request: Request, id: String, status: HTTPResponseStatus = .ok, error: String? = nil, noteDraft: String = "") async throws -> Response {
        let principal = try request.requirePrincipal()
        let store = IncidentStore(database: request.db)
        guard let incident = try await store.find(id) else { throw IncidentStore.notFound(id) }
        let sql = try request.sqlDatabase()
        let alertIDs = try await store.alertIDs(id)
        let alerts = try await AlertStore(database: sql).find(ids: alertIDs)
        var evidenceIDs: [String] = []
        var seen = Set<String>()
        for alert in alerts { for event in alert.events where seen.insert(event).inserted { evidenceIDs.append(event) } }
        // Viewers read the case, not the raw events (addresses, user names, user agents).
        let events = principal.role.includes(.analyst)
            ? try await EventStore(database: sql).recent(.init(limit: 200).with(ids: Array(evidenceIDs.prefix(200)))) : []
        let hostEvents = principal.role.includes(.analyst)
            ? try await HostEventStore(database: sql).recent(ids: Array(evidenceIDs.prefix(200)), limit: 200) : []
        let renderer = NoteRenderer()
        let tasks = try await store.tasks(id)
        let others = try await store.list({ var f = IncidentStore.Filter(); f.statuses = IncidentStatus.allCases.filter { $0 != .closed }; f.limit = 100; return f }())
        let editable = incident.status != .closed
        let context = IncidentContext(
            title: incident.title, user: LayoutUser(principal), incident: IncidentRow(incident), version: incident.version,
            rule: incident.rule, groupKey: incident.groupKey, entities: incident.entities.map { "\($0.kind.rawValue) \($0.value)" },
            playbook: incident.playbook, firstTime: FormValues.display(incident.firstTime), lastTime: FormValues.display(incident.lastTime),
            acknowledged: FormValues.display(incident.acknowledged), resolved: FormValues.display(incident.resolved),
            closed: FormValues.display(incident.closed), mergedInto: incident.mergedInto,
            editable: editable, canTriage: principal.role.includes(.analyst),
            nextStatuses: incident.status.next.map { Option(value: $0.rawValue, label: $0.label, selected: false) },
            resolutions: Option.list(Resolution.allCases.map { ($0.rawValue, $0.label) }, selected: nil, any: "(only when closing)"),
            severities: Option.list(IncidentSeverity.allCases.map { ($0.rawValue, $0.label) }, selected: incident.severity.rawValue),
            assignees: try await Self.assigneeOptions(request, selected: incident.assignee ?? "", includeUnassigned: ""),
            mergeTargets: others.rows.filter { $0.id != id }.map { Option(value: $0.id, label: "…\($0.id.suffix(8)) \($0.title)".prefix(utf8Bytes: 120), selected: false) },
            tasks: tasks.map { TaskView(position: $0.position, title: $0.title, detail: $0.detail, state: $0.state.rawValue, stateLabel: $0.state.label,
                                        comment: $0.comment, updatedBy: $0.updatedBy, updated: FormValues.display($0.updated)) },
            tasksDone: tasks.filter { $0.state != .open }.count,
            notes: try await store.notes(id).map { NoteView(author: $0.author, time: FormValues.display($0.time), html: renderer.html($0.body)) },
            alerts: alerts.map { Self.alertView($0, incident: nil) },
            evidence: events.map(Self.evidence), hostEvidence: hostEvents.map(HostEvidenceView.init), evidenceTotal: evidenceIDs.count,
            timeline: try await store.timeline(id).reversed().map { TimelineView(time: FormValues.display($0.time), actor: $0.actor, kind: $0.kind,
                                                                                summary: $0.summary, before: $0.before, after: $0.after) },
            error: error, notice: nil, noteDraft: noteDraft,
            addresses: incident.entities.filter { $0.kind == .ip }.map(\.value),
            users: Array(Set(incident.entities.filter { $0.kind == .user }.map(\.value) + events.map(\.username))
                .subtracting([ActivityEvent.anonymous]).sorted().prefix(10)),
            responses: try await ResponseStore(database: request.db).recent(incident: id, limit: 50).map { ResponseController.row($0, now: .now()) })
        let response = try await request.view.render("incident", context).encodeResponse(for: request)
        response.status = status
        return response
    }

    // MARK: Actions

    @Sendable func status(_ request: Request) async throws -> Response {
        try await change(request) { store, id, actor in
            let form = try request.content.decode(StatusForm.self)
            guard let status = try FormValues.choice(form.status, field: "status", as: IncidentStatus.self) else {
                throw IncidentRefusal(.invalid, field: "status", "choose a status")
            }
            let resolution = try FormValues.choice(form.resolution, field: "resolution", as: Resolution.self)
            try await store.setStatus(id, to: status, resolution: resolution, version: try FormValues.version(form.version), by: actor)
        }
    }

    @Sendable func severity(_ request: Request) async throws -> Response {
        try await change(request) { store, id, actor in
            let form = try request.content.decode(SeverityForm.self)
            guard let severity = try FormValues.choice(form.severity, field: "severity", as: IncidentSeverity.self) else {
                throw IncidentRefusal(.invalid, field: "severity", "choose a severity")
            }
            try await store.setSeverity(id, to: severity, version: try FormValues.version(form.version), by: actor)
        }
    }

    @Sendable func assign(_ request: Request) async throws -> Response {
        try await change(request) { store, id, actor in
            let form = try request.content.decode(AssignForm.self)
            let assignee = FormValues.clean(form.assignee, maxBytes: 128)
            try await store.assign(id, to: assignee, version: try FormValues.version(form.version), by: actor)
        }
    }

    @Sendable func rename(_ request: Request) async throws -> Response {
        try await change(request) { store, id, actor in
            let form = try request.content.decode(TitleForm.self)
            try await store.setTitle(id, to: form.title ?? "", version: try FormValues.version(form.version), by: actor)
        }
    }

    @Sendable func merge(_ request: Request) async throws -> Response {
        let form = try request.content.decode(TargetForm.self)
        let target = FormValues.clean(form.target, maxBytes: 64) ?? ""
        return try await change(request, redirect: target.isEmpty ? nil : "/incidents/\(target)") { store, id, actor in
            guard !target.isEmpty else { throw IncidentRefusal(.invalid, field: "target", "choose the incident to merge this one into") }
            try await store.merge(id, into: target, version: try FormValues.version(form.version), by: actor)
        }
    }

    @Sendable func moveAlert(_ request: Request) async throws -> Response {
        try await change(request) { store, id, actor in
            let form = try request.content.decode(TargetForm.self)
            guard let alert = request.parameters.get("alert"), alert.utf8.count <= 64 else {
                throw IncidentRefusal(.invalid, field: "alert", "the alert id in the path is missing or too long")
            }
            guard let target = FormValues.clean(form.target, maxBytes: 64) else {
                throw IncidentRefusal(.invalid, field: "target", "choose the incident to move the alert to")
            }
            try await store.moveAlert(alert, from: id, to: target, version: try FormValues.version(form.version), by: actor)
        }
    }

    @Sendable func addNote(_ request: Request) async throws -> Response {
        let form = try request.content.decode(NoteForm.self)
        return try await change(request, anchor: "notes", draft: form.body ?? "") { store, id, actor in
            try await store.addNote(id, body: form.body ?? "", by: actor)
        }
    }

    @Sendable func setTask(_ request: Request) async throws -> Response {
        try await change(request, anchor: "tasks") { store, id, actor in
            let form = try request.content.decode(TaskForm.self)
            guard let position = request.parameters.get("position", as: Int.self) else {
                throw IncidentRefusal(.invalid, field: "task", "the task number in the path is not a number")
            }
            guard let state = try FormValues.choice(form.state, field: "state", as: TaskState.self) else {
                throw IncidentRefusal(.invalid, field: "state", "choose open, done or skipped")
            }
            try await store.setTask(id, position: position, to: state, comment: form.comment, by: actor)
        }
    }

    /// Runs one change; redirects to the incident page (or `redirect`) when done, answers the page
    /// with the refusal otherwise (JSON `{error, status, reason}` for API clients).
    private func change(_ request: Request, redirect: String? = nil, anchor: String? = nil, draft: String = "",
                        _ body: (IncidentStore, String, AuditTrail.Actor) async throws -> Void) async throws -> Response {
        let principal = try request.requirePrincipal()
        let id = try Self.id(request)
        do {
            try await body(IncidentStore(database: request.db), id, request.actor(principal))
        } catch let refusal as IncidentRefusal {
            if request.wantsJSON || refusal.kind == .notFound && refusal.field == "id" { throw refusal }
            return try await render(request, id: id, status: refusal.httpStatus, error: "Not changed: \(refusal.field): \(refusal.reason).", noteDraft: draft)
        }
        await request.secmon.live.incidentChanged(id, on: request.db, change: "changed")
        return request.redirect(to: (redirect ?? "/incidents/\(id)") + (anchor.map { "#\($0)" } ?? ""), redirectType: .normal)
    }

    // MARK: Helpers

    static func id(_ request: Request) throws -> String {
        guard let id = request.parameters.get("id"), id.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "id", "the incident id in the path is missing or too long")
        }
        return id
    }

    /// Analysts and admins who may log in, for assigning.
    static func assigneeOptions(_ request: Request, selected: String?, includeUnassigned: String) async throws -> [Option] {
        let users = try await request.users.all().filter { $0.role.includes(.analyst) && !$0.locked }
        var options = [Option(value: includeUnassigned, label: includeUnassigned == "-" ? "Unassigned" : "Nobody",
                              selected: selected == includeUnassigned)]
        if includeUnassigned == "-" { options.insert(Option(value: "", label: "Anyone", selected: selected == nil || selected == ""), at: 0) }
        options += users.map { Option(value: $0.username, label: $0.username, selected: $0.username == selected) }
        return options
    }

    static func alertView(_ alert: AlertStore.Row, incident: String?) -> AlertRowView {
        AlertRowView(id: alert.id, rule: alert.rule, title: alert.title, level: alert.level.rawValue, group: alert.groupDescription,
                     status: alert.status, first: FormValues.display(alert.firstTime), last: FormValues.display(alert.lastTime),
                     events: alert.eventCount, incident: incident, incidentShort: incident.map { "…" + String($0.suffix(8)) },
                     explanation: alert.explanation)
    }

    static func evidence(_ event: ActivityEvent) -> EvidenceView {
        EvidenceView(eventID: event.eventID, timestamp: event.timestamp.iso8601, action: event.action.rawValue, username: event.username,
                     ipAddress: event.ipAddress, request: [event.method, event.path].compactMap { $0 }.joined(separator: " "),
                     status: event.status.map(String.init) ?? "", userAgent: event.userAgent ?? "", attempted: event.attemptedUsername ?? "")
    }
}

extension EventStore.Filter {
    /// This filter restricted to the events `ids`.
    func with(ids: [String]) -> Self {
        var copy = self
        copy.eventIDs = ids
        return copy
    }
}

extension Request {
    /// This request's database through SQLKit.
    func sqlDatabase() throws -> any SQLDatabase {
        guard let sql = db as? any SQLDatabase else { throw Abort(.internalServerError, reason: "The database does not speak SQL.") }
        return sql
    }
}
