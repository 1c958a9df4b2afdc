@testable import App
import Foundation
import Simulation
import SQLKit
import Testing

/// The rules page: the live rules with hits and last hit; an admin turns a rule off (it raises
/// nothing, audited) and on again; a rule's regression tests run from the page.
@Suite("Rules page", .timeLimit(.minutes(10)))
struct RulesPageTests {
    @Test("viewers read the rules with their hits; admins turn D-02 off and on; analysts run D-01's tests", arguments: TestDatabase.all)
    func rulesPage(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let simulator = try await IncidentTests.simulator(h)
            _ = try await simulator.run(.bruteForce)
            try await h.flush()
            let viewer = try await h.loggedIn(as: .viewer)
            let page = try await viewer.get("/rules")
            #expect(page.status == .ok && page.body.contains("id=\"rule-D-01\"") && page.body.contains("Brute force login"))
            let d01 = try #require(page.body.range(of: "id=\"rule-D-01\"")).upperBound
            #expect(page.body[d01...].prefix(600).contains("<td>1</td>"), "one hit for D-01")
            #expect(!page.body.contains("Turn off"), "viewers change nothing")
            #expect(try await viewer.postForm("/rules/D-01/enabled", ["enabled": "off"]).status == .forbidden)
            #expect(try await viewer.postForm("/rules/D-01/test", [:]).status == .forbidden)

            // Off: the flood raises no D-02 alert, and so no incident nor rate limit.
            let admin = try await h.loggedIn(as: .admin)
            let off = try await admin.postForm("/rules/D-02/enabled", ["enabled": "off"])
            #expect(off.status == .ok && off.body.contains("D-02 is off"))
            _ = try await simulator.run(.apiFlood)
            try await h.flush()
            #expect(try await IncidentTests.incidents(h).allSatisfy { $0.rule != "D-02" })
            #expect(h.app.secmon.switches.suppressed > 0)
            #expect(try await AlertStore(database: h.app.db as! any SQLDatabase).all(rule: "D-02").isEmpty)
            #expect(try await admin.get("/rules").body.contains("<strong>off</strong>"))
            // On again: the flood goes on, and now it is raised.
            #expect(try await admin.postForm("/rules/D-02/enabled", ["enabled": "on"]).status == .ok)
            _ = try await simulator.run(.apiFlood)
            try await h.flush()
            var raised = false
            for _ in 0..<200 where !raised {
                raised = try await IncidentTests.incidents(h).contains { $0.rule == "D-02" }
                if !raised { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(raised)
            let audit = try await AuditTrail.entries({ var f = AuditTrail.Filter(); f.action = "rule."; return f }(), on: h.app.db as! any SQLDatabase)
            #expect(audit.map(\.action) == ["rule.enable", "rule.disable"] && audit.allSatisfy { $0.target == "rule:D-02" })
            #expect(try await admin.postForm("/rules/D-02/enabled", ["enabled": "maybe"]).status == .badRequest)

            // D-01's regression tests, from the page.
            let analyst = try await h.loggedIn(as: .analyst)
            let tests = try await analyst.postForm("/rules/D-01/test", [:])
            #expect(tests.status == .ok && tests.body.contains("id=\"test-results\"") && tests.body.contains("3 passed, 0 failed"), "\(tests.status)")
            #expect(try await analyst.postForm("/rules/NO-SUCH/test", [:]).status == .notFound)
        }
    }
}
