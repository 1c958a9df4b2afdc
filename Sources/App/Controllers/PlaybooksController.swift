import Incidents
import SecurityModel
import Vapor

/// The playbook templates (admins): each one's title, description and tasks, edited in place.
/// Incidents opened before an edit keep the tasks they were given.
struct PlaybooksController {
    struct EditForm: Content {
        var title: String?
        var description: String?
        var tasks: String?
        var version: Int?
    }

    struct Item: Encodable {
        var name: String
        var title: String
        var description: String
        var tasksText: String
        var taskCount: Int
        var version: Int
        var updatedBy: String
        var updated: String
        var rules: [String]
    }

    struct Context: Encodable {
        var title = "Playbooks"
        var user: LayoutUser
        var playbooks: [Item]
        var notice: String?
        var error: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "admin", "playbooks", access: .role(.admin), use: list)
        routes.secured(.POST, "admin", "playbooks", ":name", access: .role(.admin), use: update)
    }

    @Sendable func list(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func update(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let name = request.parameters.get("name"), name.utf8.count <= 64 else {
            throw IncidentRefusal(.invalid, field: "name", "the playbook name in the path is missing or too long")
        }
        let form = try request.content.decode(EditForm.self)
        guard (form.tasks ?? "").utf8.count <= Playbook.maxTasks * (Playbook.maxTaskBytes + 1) else {
            throw IncidentRefusal(.invalid, field: "tasks", "the tasks text is too long")
        }
        do {
            try await PlaybookStore(database: try request.sqlDatabase()).update(
                name, title: form.title ?? "", description: form.description ?? "", tasksText: form.tasks ?? "",
                version: try FormValues.version(form.version), by: request.actor(principal), on: request.db)
        } catch let refusal as IncidentRefusal {
            if request.wantsJSON || refusal.kind == .notFound { throw refusal }
            return try await render(request, status: refusal.httpStatus, error: "\(name) not saved: \(refusal.field): \(refusal.reason).")
        }
        return try await render(request, notice: "Saved \(name). New incidents get these tasks; open ones keep theirs.")
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let rules = request.secmon.runtime.detection?.rulePlaybooks ?? [:]
        let items = try await PlaybookStore(database: try request.sqlDatabase()).all().map { entry in
            Item(name: entry.playbook.name, title: entry.playbook.title, description: entry.playbook.description,
                 tasksText: entry.playbook.tasksText, taskCount: entry.playbook.tasks.count, version: entry.version,
                 updatedBy: entry.updatedBy, updated: FormValues.display(entry.updated),
                 rules: rules.filter { $0.value == entry.playbook.name }.map(\.key).sorted())
        }
        let response = try await request.view.render("playbooks", Context(user: LayoutUser(principal), playbooks: items, notice: notice, error: error))
            .encodeResponse(for: request)
        response.status = status
        return response
    }
}
