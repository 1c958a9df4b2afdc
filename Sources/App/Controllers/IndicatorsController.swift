import DetectionEngine
import Incidents
import SecurityModel
import Vapor

/// The indicators page: the lists rules read through Sigma's `expand` placeholders (H-02's
/// `%indicator_ips%`). Analysts read them and download them for `secmon analyze --placeholders`;
/// administrators create, change and delete lists. A change is audited and reloads the live
/// rules at once (other nodes follow within `indicatorCheckSeconds`).
struct IndicatorsController {
    struct ListForm: Content {
        var name: String?
        var description: String?
        var entries: String?
    }

    struct Item: Encodable {
        var name: String
        var description: String
        var count: Int
        var countText: String
        var text: String
        var usedBy: String
        var updatedBy: String
        var updated: String
    }

    /// A placeholder the loaded rules use that has no list yet.
    struct Missing: Encodable {
        var name: String
        var usedBy: String
    }

    struct Draft: Encodable {
        var name: String
        var description: String
        var entries: String
    }

    struct Context: Encodable {
        var title = "Indicators"
        var user: LayoutUser
        var lists: [Item]
        var missing: [Missing]
        var draft: Draft?
        var maxKiB: Int
        var notice: String?
        var error: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "indicators", access: .role(.analyst), use: page)
        routes.secured(.GET, "indicators.yml", access: .role(.analyst), use: download)
        routes.secured(.POST, "indicators", access: .role(.admin), use: save)
        routes.secured(.POST, "indicators", ":name", "delete", access: .role(.admin), use: delete)
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func download(_ request: Request) async throws -> Response {
        let lists = try await IndicatorListStore(database: try request.sqlDatabase()).all()
        let response = Response(status: .ok, body: .init(string: IndicatorListStore.yaml(lists)))
        response.headers.contentType = HTTPMediaType(type: "application", subType: "yaml", parameters: ["charset": "utf-8"])
        response.headers.contentDisposition = .init(.attachment, filename: "secmon-indicators.yml")
        return response
    }

    @Sendable func save(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(ListForm.self)
        let name = FormValues.clean(form.name, maxBytes: 128) ?? ""
        let description = FormValues.clean(form.description, maxBytes: 1024) ?? ""
        let text = form.entries ?? ""
        do {
            let change = try await IndicatorListStore(database: try request.sqlDatabase()).save(
                name: name, description: description, text: text, by: request.actor(principal), on: request.db)
            var notice = "\(name) saved: \(change.total) entr\(change.total == 1 ? "y" : "ies") (\(change.added) added, \(change.removed) removed"
            notice += change.duplicates > 0 ? ", \(change.duplicates) duplicate line\(change.duplicates == 1 ? "" : "s") dropped)." : ")."
            notice += " " + (await Self.reload(request, principal))
            return try await render(request, notice: notice)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, draft: Draft(name: name, description: description, entries: text),
                                    error: "The list \(name.isEmpty ? "(no name)" : name) was not saved: \(refusal.field): \(refusal.reason).")
        }
    }

    @Sendable func delete(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        guard let name = request.parameters.get("name"), PlaceholderTable.isValidName(name) else {
            throw Abort(.badRequest, reason: "The list name in the path is not a list name (letters, digits, _ - and ., up to 64).")
        }
        guard try await IndicatorListStore(database: try request.sqlDatabase()).delete(name, by: request.actor(principal), on: request.db) else {
            return try await render(request, status: .notFound, error: "There is no list \(name).")
        }
        return try await render(request, notice: "\(name) deleted: rules that use it now match nothing there. " + (await Self.reload(request, principal)))
    }

    /// Reloads the live rules with the lists as they now are; says what happened.
    static func reload(_ request: Request, _ principal: Principal) async -> String {
        switch await request.secmon.runtime.rules.reload(by: request.actor(principal)) {
        case .reloaded(let rules, _, _, _): return "The live rules were reloaded with it (\(rules) rules)."
        case .refused(let errors): return "The live rules were NOT reloaded: " + errors.prefix(3).joined(separator: "; ")
        case .detectionOff: return "Live detection is off: the lists apply when it runs."
        }
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, draft: Draft? = nil, notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let lists = try await IndicatorListStore(database: try request.sqlDatabase()).all()
        let uses = request.secmon.runtime.detection?.rules.placeholders ?? [:]
        let items = lists.map { list in
            Item(name: list.name, description: list.description, count: list.entries.count,
                 countText: list.entries.count == 1 ? "1 entry" : "\(list.entries.count) entries", text: list.text,
                 usedBy: (uses[list.name] ?? []).joined(separator: ", "), updatedBy: list.updatedBy, updated: FormValues.display(list.updated))
        }
        let defined = Set(lists.map(\.name))
        let missing = uses.keys.filter { !defined.contains($0) }.sorted().map { Missing(name: $0, usedBy: uses[$0]!.joined(separator: ", ")) }
        let context = Context(user: LayoutUser(principal), lists: items, missing: missing,
                              draft: draft ?? missing.first.map { Draft(name: $0.name, description: "", entries: "") },
                              maxKiB: request.secmon.config.maxBodyBytes / 1024, notice: notice, error: error)
        let response = try await request.view.render("indicators", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
