import Analysis
import DetectionEngine
import EventPipeline
import SecurityModel
import SQLKit
import Vapor

/// The rules page: the live rules with their level, hits (alerts raised) and last hit; turning a
/// rule off or on (admins); running a rule file's regression tests from the page (analysts); and
/// reloading the rules, with the errors of a broken set shown (admins, `/rules/reload`).
struct RulesPageController {
    struct Row: Encodable {
        var id: String
        var title: String
        var kind: String
        var level: String
        var file: String
        var line: Int
        var hits: Int
        var lastHit: String
        var enabled: Bool
        var hasTests: Bool
        var playbook: String?
    }

    struct TestView: Encodable {
        var rule: String
        var spec: String
        var passed: Int
        var failed: Int
        var cases: [Case]
        var problems: [String]
        struct Case: Encodable {
            var name: String
            var line: Int
            var passed: Bool
            var failures: [String]
        }
    }

    struct Context: Encodable {
        var title = "Rules"
        var user: LayoutUser
        var detection: Bool
        var path: String
        var rules: [Row]
        var buildingBlocks: Int
        var suppressed: Int
        var notice: String?
        var error: String?
        var tests: TestView?
    }

    struct EnabledForm: Content {
        var enabled: String?
    }

    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "rules", access: .role(.viewer), use: page)
        routes.secured(.POST, "rules", ":rule", "enabled", access: .role(.admin), use: setEnabled)
        routes.secured(.POST, "rules", ":rule", "test", access: .role(.analyst), use: runTests)
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func setEnabled(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let rule = try Self.rule(request)
        let form = try request.content.decode(EnabledForm.self)
        guard let enabled = form.enabled.flatMap({ ["on": true, "off": false][$0] }) else {
            return try await render(request, status: .badRequest, error: "Not changed: enabled: say on or off.")
        }
        try await request.secmon.switches.set(rule, enabled: enabled, by: request.actor(principal), on: request.db)
        return try await render(request, notice: enabled
            ? "\(rule) is on: its alerts are raised again."
            : "\(rule) is off: it still runs (correlations built on it keep working), but it raises no new alerts.")
    }

    @Sendable func runTests(_ request: Request) async throws -> Response {
        let rule = try Self.rule(request)
        guard let set = request.secmon.runtime.detection?.rules,
              let node = (0..<set.count).first(where: { set.info(ofNode: $0).label == rule }) else {
            throw Abort(.notFound, reason: "There is no live rule \(rule).")
        }
        let info = set.info(ofNode: node)
        guard let spec = RuleTestSuite.spec(forRuleFile: info.file) else {
            return try await render(request, status: .notFound, error: "\(rule) has no regression tests: write them in a .tests.yml file beside \(info.file) (see the README).")
        }
        // CPU work, small: a few sample logs through the rules, off the event loop.
        let path = request.secmon.runtime.rules.path
        let suite = await Task.detached {
            RuleTestSuite.run(spec: spec, rules: set, referenceTime: .now(), reload: path.map { path in { RuleDirectory.load(path, placeholders: $0) } })
        }.value
        let view = TestView(rule: rule, spec: (spec as NSString).lastPathComponent, passed: suite.passed, failed: suite.failed,
                            cases: suite.outcomes.map { .init(name: $0.name, line: $0.line, passed: $0.passed, failures: $0.failures) },
                            problems: suite.diagnostics.map(\.description))
        await request.audit("rules.test", target: "rule:\(rule)", after: "\(suite.passed) passed, \(suite.failed) failed")
        return try await render(request, status: suite.failed == 0 && suite.diagnostics.isEmpty ? .ok : .unprocessableEntity, tests: view)
    }

    static func rule(_ request: Request) throws -> String {
        guard let rule = request.parameters.get("rule"), !rule.isEmpty, rule.utf8.count <= 256 else {
            throw Abort(.badRequest, reason: "The rule in the path is missing or too long.")
        }
        return rule
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String? = nil, error: String? = nil, tests: TestView? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let switches = request.secmon.switches
        let disabled = switches.disabled
        var rows: [Row] = []
        var blocks = 0
        let path = request.secmon.runtime.rules.path ?? ""
        if let set = request.secmon.runtime.detection?.rules {
            let hits = try await request.sqlDatabase().raw("SELECT rule, COUNT(*) AS n, MAX(first_ts) AS last FROM alerts GROUP BY rule").all()
            var byRule: [String: (Int, Int64?)] = [:]
            for row in hits {
                byRule[try row.decode(column: "rule", as: String.self)] = (try row.decode(column: "n", as: Int.self), try row.decode(column: "last", as: Int64?.self))
            }
            for node in 0..<set.count {
                guard set.raisesAlerts(node: node) else { blocks += 1; continue }
                let info = set.info(ofNode: node)
                let hit = byRule[info.label]
                let file = info.file.hasPrefix(path + "/") ? String(info.file.dropFirst(path.count + 1)) : info.file
                rows.append(Row(id: info.label, title: info.title, kind: info.kind.rawValue, level: info.level.rawValue, file: file, line: info.line,
                                hits: hit?.0 ?? 0, lastHit: hit?.1.map { FormValues.display(Timestamp(microseconds: $0)) } ?? "never",
                                enabled: !disabled.contains(info.label), hasTests: RuleTestSuite.spec(forRuleFile: info.file) != nil, playbook: info.playbook))
            }
        }
        let context = Context(user: LayoutUser(principal), detection: request.secmon.runtime.detection != nil, path: path,
                              rules: rows.sorted { $0.id < $1.id }, buildingBlocks: blocks, suppressed: switches.suppressed,
                              notice: notice, error: error, tests: tests)
        let response = try await request.view.render("rules", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
