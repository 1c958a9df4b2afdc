import Vapor

/// Reloading the live rules: a form button on the dashboard and `POST /api/rules/reload`, both for
/// admins. A rule set with errors is refused with its errors; the running rules stay.
struct RulesController {
    struct ReloadResult: Content {
        var status: String
        var rules: Int?
        /// Correlations whose windows and open alerts carried over.
        var kept: [String]?
        /// Correlations that were changed or removed: they start empty.
        var reset: [String]?
        var closedAlerts: Int?
        var errors: [String]
        enum CodingKeys: String, CodingKey {
            case status, rules, kept, reset, errors, closedAlerts = "closed_alerts"
        }
    }

    struct ReloadContext: Encodable {
        var title = "Reload rules"
        var user: LayoutUser
        var reloaded: Bool
        var message: String
        var errors: [String]
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.POST, "rules", "reload", access: .role(.admin), use: reloadPage)
        routes.grouped("api").secured(.POST, "rules", "reload", access: .role(.admin), use: reloadAPI)
    }

    @Sendable func reloadAPI(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let (status, result) = Self.result(await request.secmon.runtime.rules.reload(by: request.actor(principal)))
        let response = try await result.encodeResponse(for: request)
        response.status = status
        return response
    }

    @Sendable func reloadPage(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let (status, result) = Self.result(await request.secmon.runtime.rules.reload(by: request.actor(principal)))
        let message: String
        switch result.status {
        case "reloaded":
            message = "\(result.rules ?? 0) rules are running now. \(result.kept?.count ?? 0) correlation(s) kept their windows and open alerts; "
                + "\(result.reset?.count ?? 0) changed or removed correlation(s) started empty, closing \(result.closedAlerts ?? 0) open alert(s)."
        case "refused":
            message = "The rules were not reloaded: \(result.errors.count) error(s). The previous rules are still running. Fix the files and reload again."
        default:
            message = "Live detection is off: no rules were found at startup. Start SecMon with --rules to turn it on."
        }
        let view = try await request.view.render("rules-reload", ReloadContext(
            user: LayoutUser(principal), reloaded: result.status == "reloaded", message: message, errors: result.errors
        ))
        let response = try await view.encodeResponse(for: request)
        response.status = status
        return response
    }

    static func result(_ outcome: RuleReloader.Outcome) -> (HTTPStatus, ReloadResult) {
        switch outcome {
        case .reloaded(let rules, let kept, let reset, let closed):
            return (.ok, ReloadResult(status: "reloaded", rules: rules, kept: kept, reset: reset, closedAlerts: closed, errors: []))
        case .refused(let errors):
            return (.unprocessableEntity, ReloadResult(status: "refused", errors: errors))
        case .detectionOff:
            return (.conflict, ReloadResult(status: "detection-off", errors: ["live detection is off: no rules were found at startup"]))
        }
    }
}
