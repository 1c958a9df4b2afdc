import Incidents
import SecurityModel
import Vapor

/// `/api/v1/incidents`: the incident list (filters as on the page, cursor pagination), one
/// incident with its tasks, notes, timeline and alerts, and every analyst action, with JSON
/// bodies. Changes answer the incident as it is afterwards; refusals are problem documents naming
/// the field.
struct IncidentsAPI {
    struct StatusBody: Codable { var status: String; var resolution: String?; var version: Int }
    struct SeverityBody: Codable { var severity: String; var version: Int }
    struct AssignBody: Codable { var assignee: String?; var version: Int }
    struct TitleBody: Codable { var title: String; var version: Int }
    struct TargetBody: Codable { var target: String; var version: Int }
    struct NoteBody: Codable { var body: String }
    struct TaskBody: Codable { var state: String; var comment: String? }

    func register(_ routes: any RoutesBuilder) {
        let v1 = routes.grouped("api", "v1", "incidents")
        v1.secured(.GET, access: .role(.viewer), use: list)
        v1.secured(.GET, ":id", access: .role(.viewer), use: show)
        v1.secured(.POST, ":id", "status", access: .role(.analyst), use: status)
        v1.secured(.POST, ":id", "severity", access: .role(.analyst), use: severity)
        v1.secured(.POST, ":id", "assign", access: .role(.analyst), use: assign)
        v1.secured(.POST, ":id", "title", access: .role(.analyst), use: rename)
        v1.secured(.POST, ":id", "merge", access: .role(.analyst), use: merge)
        v1.secured(.POST, ":id", "alerts", ":alert", "move", access: .role(.analyst), use: moveAlert)
        v1.secured(.POST, ":id", "notes", access: .role(.analyst), use: addNote)
        v1.secured(.POST, ":id", "tasks", ":position", access: .role(.analyst), use: setTask)
    }

    @Sendable func list(_ request: Request) async throws -> APIViews.IncidentPage {
        let query = try request.query.decode(IncidentsController.ListQuery.self)
        var filter = try query.filter()
        let limit = try ReadAPI.limit(query.limit)
        filter.limit = limit
        if let cursor = query.cursor {
            let parts = try request.secmon.cursors.decode(cursor, kind: "incidents", count: 2)
            guard let created = Int64(parts[0]) else { throw IncidentRefusal(.invalid, field: "cursor", "not a cursor this server gave") }
            filter.after = (created, parts[1])
        }
        let (rows, total) = try await IncidentStore(database: request.db).list(filter)
        let next = rows.count == limit ? rows.last.map { request.secmon.cursors.encode(kind: "incidents", [String($0.created.microseconds), $0.id]) } : nil
        return APIViews.IncidentPage(incidents: rows.map(APIViews.Incident.init), total: total, nextCursor: next)
    }

    @Sendable func show(_ request: Request) async throws -> APIViews.IncidentDetail {
        let id = try IncidentsController.id(request)
        let store = IncidentStore(database: request.db)
        guard let incident = try await store.find(id) else { throw IncidentStore.notFound(id) }
        return APIViews.IncidentDetail(
            incident: .init(incident),
            tasks: try await store.tasks(id).map { .init(position: $0.position, title: $0.title, detail: $0.detail, state: $0.state.rawValue,
                                                           comment: $0.comment, updatedBy: $0.updatedBy, updatedAt: $0.updated?.api) },
            notes: try await store.notes(id).map { .init(author: $0.author, time: $0.time.api, body: $0.body) },
            timeline: try await store.timeline(id).map { .init(time: $0.time.api, actor: $0.actor, kind: $0.kind, summary: $0.summary,
                                                              before: $0.before, after: $0.after) },
            alertIDs: try await store.alertIDs(id))
    }

    @Sendable func status(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(StatusBody.self, from: request, allowed: ["status", "resolution", "version"])
        return try await change(request) { store, id, actor in
            guard let status = try FormValues.choice(body.status, field: "status", as: IncidentStatus.self) else {
                throw IncidentRefusal(.invalid, field: "status", "choose a status")
            }
            try await store.setStatus(id, to: status, resolution: try FormValues.choice(body.resolution, field: "resolution", as: Resolution.self),
                                      version: body.version, by: actor)
        }
    }

    @Sendable func severity(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(SeverityBody.self, from: request, allowed: ["severity", "version"])
        return try await change(request) { store, id, actor in
            guard let severity = try FormValues.choice(body.severity, field: "severity", as: IncidentSeverity.self) else {
                throw IncidentRefusal(.invalid, field: "severity", "choose a severity")
            }
            try await store.setSeverity(id, to: severity, version: body.version, by: actor)
        }
    }

    @Sendable func assign(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(AssignBody.self, from: request, allowed: ["assignee", "version"])
        return try await change(request) { store, id, actor in
            try await store.assign(id, to: FormValues.clean(body.assignee, maxBytes: 128), version: body.version, by: actor)
        }
    }

    @Sendable func rename(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(TitleBody.self, from: request, allowed: ["title", "version"])
        return try await change(request) { store, id, actor in try await store.setTitle(id, to: body.title, version: body.version, by: actor) }
    }

    @Sendable func merge(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(TargetBody.self, from: request, allowed: ["target", "version"])
        return try await change(request) { store, id, actor in try await store.merge(id, into: body.target, version: body.version, by: actor) }
    }

    @Sendable func moveAlert(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(TargetBody.self, from: request, allowed: ["target", "version"])
        guard let alert = request.parameters.get("alert"), alert.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "alert", "the alert id in the path is missing or too long")
        }
        return try await change(request) { store, id, actor in
            try await store.moveAlert(alert, from: id, to: body.target, version: body.version, by: actor)
        }
    }

    @Sendable func addNote(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(NoteBody.self, from: request, allowed: ["body"])
        return try await change(request) { store, id, actor in try await store.addNote(id, body: body.body, by: actor) }
    }

    @Sendable func setTask(_ request: Request) async throws -> APIViews.Incident {
        let body = try StrictBody.decode(TaskBody.self, from: request, allowed: ["state", "comment"])
        guard let position = request.parameters.get("position", as: Int.self) else {
            throw IncidentRefusal(.invalid, field: "task", "the task number in the path is not a number")
        }
        return try await change(request) { store, id, actor in
            guard let state = try FormValues.choice(body.state, field: "state", as: TaskState.self) else {
                throw IncidentRefusal(.invalid, field: "state", "choose open, done or skipped")
            }
            try await store.setTask(id, position: position, to: state, comment: body.comment, by: actor)
        }
    }

    private func change(_ request: Request, _ body: (IncidentStore, String, AuditTrail.Actor) async throws -> Void) async throws -> APIViews.Incident {
        let principal = try request.requirePrincipal()
        let id = try IncidentsController.id(request)
        let store = IncidentStore(database: request.db)
        try await body(store, id, request.actor(principal))
        guard let incident = try await store.find(id) else { throw IncidentStore.notFound(id) }
        request.secmon.live.publish(incident: incident, change: "changed")
        return .init(incident)
    }
}
