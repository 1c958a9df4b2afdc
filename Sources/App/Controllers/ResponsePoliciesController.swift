import ActiveResponse
import Incidents
import SecurityModel
import Vapor

/// The response policies page: what SecMon does by itself when each rule fires. Analysts read
/// it; administrators change a policy (actions, durations, escalation, rate, dry run, on or off)
/// or add one for another rule, with a version check and an audit row.
struct ResponsePoliciesController {
    struct PolicyForm: Content {
        var rule: String?
        var action_block: String?
        var action_ratelimit: String?
        var action_lock: String?
        var action_watch: String?
        var action_terminate: String?
        var action_quarantine: String?
        var minutes: Int?
        var escalation: Int?
        var max_minutes: Int?
        var rate: Int?
        var dry_run: String?
        var enabled: String?
        var version: Int?
    }

    struct Item: Encodable {
        var rule: String
        var ruleTitle: String
        var summary: String
        var block: Bool
        var ratelimit: Bool
        var lock: Bool
        var watch: Bool
        var terminate: Bool
        var quarantine: Bool
        var minutes: Int
        var escalation: Int
        var maxMinutes: Int
        var rate: Int
        var dryRun: Bool
        var enabled: Bool
        var version: Int
        var updatedBy: String
        var updated: String
        var loaded: Bool
    }

    struct Context: Encodable {
        var title = "Response policies"
        var user: LayoutUser
        var policies: [Item]
        var otherRules: [String]
        var dryRunMode: Bool
        var notice: String?
        var error: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "response", "policies", access: .role(.analyst), use: page)
        routes.secured(.POST, "response", "policies", access: .role(.admin), use: save)
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func save(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(PolicyForm.self)
        let rule = FormValues.clean(form.rule, maxBytes: 128) ?? ""
        let flags: [(String?, ResponseKind)] = [(form.action_block, .block), (form.action_ratelimit, .rateLimit), (form.action_lock, .lock), (form.action_watch, .watch)]
        let hostFlags: [(String?, HostAction)] = [(form.action_terminate, .terminate), (form.action_quarantine, .quarantine)]
        let policy = ResponsePolicy(rule: rule, actions: flags.filter { $0.0 != nil }.map(\.1), hostActions: hostFlags.filter { $0.0 != nil }.map(\.1),
                                    minutes: form.minutes ?? 0,
                                    escalation: form.escalation ?? 1, maxMinutes: form.max_minutes ?? form.minutes ?? 0, ratePerMinute: form.rate ?? 60,
                                    dryRun: form.dry_run != nil, enabled: form.enabled != nil)
        do {
            let stored = try await ResponsePolicyStore(database: try request.sqlDatabase()).save(
                policy, version: max(0, form.version ?? 0),
                knownRules: ResponseController.ruleIDs(request), by: request.actor(principal), on: request.db)
            return try await render(request, notice: "The policy of \(rule) is now: \(stored.policy.summary).")
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "The policy of \(rule.isEmpty ? "(no rule)" : rule) was not changed: \(refusal.field): \(refusal.reason).")
        }
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let titles = ResponseController.ruleTitles(request)
        let loaded = Set(titles.keys)
        let stored = try await ResponsePolicyStore(database: try request.sqlDatabase()).all()
        let items = stored.map { entry in
            let policy = entry.policy
            return Item(rule: policy.rule, ruleTitle: titles[policy.rule] ?? "", summary: policy.summary, block: policy.actions.contains(.block), ratelimit: policy.actions.contains(.rateLimit),
                        lock: policy.actions.contains(.lock), watch: policy.actions.contains(.watch),
                        terminate: policy.hostActions.contains(.terminate), quarantine: policy.hostActions.contains(.quarantine), minutes: policy.minutes,
                        escalation: policy.escalation, maxMinutes: policy.maxMinutes, rate: policy.ratePerMinute, dryRun: policy.dryRun,
                        enabled: policy.enabled, version: entry.version, updatedBy: entry.updatedBy, updated: FormValues.display(entry.updated),
                        loaded: loaded.contains(policy.rule))
        }
        let others = loaded.subtracting(stored.map(\.policy.rule)).sorted()
        let context = Context(user: LayoutUser(principal), policies: items, otherRules: others, dryRunMode: request.secmon.config.responseDryRun,
                              notice: notice, error: error)
        let response = try await request.view.render("response-policies", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
