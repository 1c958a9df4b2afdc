@testable import App
import Foundation
import Incidents
import SecurityModel
import Simulation
import SQLKit
import Testing

/// Incidents end to end: the original design's four scenarios, driven by the same code as
/// `secmon simulate` over real HTTP from their own loopback addresses, each open exactly one
/// incident with the right severity and playbook; the analyst's changes, refusals and conflicts.
@Suite("Incidents", .timeLimit(.minutes(10)))
struct IncidentTests {
    static let simPassword = "sim-password-123"

    static func simulator(_ h: SecMonHarness) async throws -> Simulator {
        if try await h.app.secmon.users(on: h.app.db).find("sim") == nil {
            try await h.createUser("sim", role: .analyst, password: simPassword)
        }
        return try Simulator(target: URL(string: h.baseURL)!, user: "sim", password: simPassword, allowRemote: false, http: h.http, requestTimeout: .seconds(60))
    }

    static func incidents(_ h: SecMonHarness) async throws -> [IncidentRecord] {
        try await h.flush()
        var filter = IncidentStore.Filter()
        filter.limit = 200
        return try await IncidentStore(database: h.app.db).list(filter).rows
    }

    @Test("each scenario of the design opens exactly one incident, with its severity, playbook and alerts", arguments: TestDatabase.all)
    func scenarios(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            // D-01's block in dry run: both bursts are heard (the block itself: AutoResponseTests).
            try await ResponseTests.setPolicy(h, "D-01", enabled: true, dryRun: true)
            let simulator = try await Self.simulator(h)
            for scenario in Scenario.all(user: "sim") {
                let report = try await simulator.run(scenario)
                #expect(report.requests == scenario.requestCount)
            }
            let incidents = try await Self.incidents(h)
            #expect(incidents.count == 4, "\(incidents.map { "\($0.rule) \($0.groupKey)" })")
            for scenario in Scenario.all(user: "sim") {
                let expected = scenario.expectation
                let matching = incidents.filter { $0.rule == expected.rule }
                #expect(matching.count == 1, "\(scenario.name): \(matching.count) incidents")
                guard let incident = matching.first else { continue }
                #expect(incident.severity.rawValue == expected.severity, "\(scenario.name)")
                #expect(incident.playbook == expected.playbook, "\(scenario.name)")
                #expect(incident.status == .new)
                #expect(incident.version == 1)
                #expect(incident.alertCount == expected.alerts, "\(scenario.name): \(incident.alertCount) alerts")
                #expect(incident.entities.map { "\($0.kind.rawValue) \($0.value)" }.contains(expected.about), "\(scenario.name): \(incident.entities)")
                let store = IncidentStore(database: h.app.db)
                let tasks = try await store.tasks(incident.id)
                let template = try #require(BundledPlaybooks.all.first { $0.name == expected.playbook })
                #expect(tasks.map(\.title) == template.tasks.map(\.title))
                #expect(tasks.allSatisfy { $0.state == .open })
                let timeline = try await store.timeline(incident.id)
                #expect(timeline.first?.kind == "created")
                #expect(timeline.filter { $0.kind == "alert" }.count == expected.alerts - 1)
            }
            // The attackers are told apart from the analyst at 127.0.0.1 and from each other.
            let brute = try #require(incidents.first { $0.rule == "D-01" })
            #expect(brute.entities == [.init(.ip, "127.0.0.2")])
            #expect(brute.eventCount == 6)

            // A second burst from the same source while the incident is open joins it.
            _ = try await simulator.run(.bruteForce)
            let after = try await Self.incidents(h)
            #expect(after.count == 4)
            let joined = try #require(after.first { $0.rule == "D-01" })
            #expect(joined.id == brute.id)
            #expect(joined.eventCount == 12)

            // The incidents page, the alert list and the dashboard show them.
            let viewer = try await h.loggedIn(as: .viewer)
            let list = try await viewer.get("/incidents?status=open")
            #expect(list.status == .ok)
            for rule in ["Brute force login", "API flood", "Session cycling", "Bot-like repetition"] { #expect(list.body.contains(rule), "\(rule)") }
            #expect(try await viewer.get("/incidents?severity=high").body.components(separatedBy: "href=\"/incidents/0").count == 2)
            let alerts = try await viewer.get("/alerts?rule=D-03")
            #expect(alerts.body.components(separatedBy: "<td>D-03</td>").count == 4, "three D-03 alerts")
            let dashboard = try await viewer.get("/")
            #expect(dashboard.body.contains("id=\"open-incidents\""))
            #expect(dashboard.body.contains("Brute force login"))
            // Viewers read the case but not the raw events.
            let page = try await viewer.get("/incidents/\(brute.id)")
            #expect(page.status == .ok)
            #expect(page.body.contains("Block the suspicious IP temporarily"))
            #expect(!page.body.contains("secmon-simulate/1.0"))
            #expect(!page.body.contains("id=\"status-form\""))
            let analyst = try await h.loggedIn(as: .analyst)
            let full = try await analyst.get("/incidents/\(brute.id)")
            // Twelve attempts in the evidence, both bursts: failures, and those throttled before a password check.
            let attempts = full.body.components(separatedBy: "<td>LOGIN_FAILURE</td>").count - 1 + full.body.components(separatedBy: "<td>LOGIN_THROTTLED</td>").count - 1
            #expect(attempts == 12, "twelve evidence events: both bursts")
            #expect(full.body.contains("id=\"status-form\""))
        }
    }

    @Test("the analyst workflow: acknowledge, assign, tick tasks, note, close; refusals name the field and write nothing", arguments: TestDatabase.all)
    func workflow(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            _ = try await Self.simulator(h).run(.bruteForce)
            let incident = try #require(try await Self.incidents(h).first)
            let analyst = try await h.loggedIn(as: .analyst)
            let me = try await Self.username(analyst)
            let path = "/incidents/\(incident.id)"

            func post(_ action: String, _ fields: [String: String]) async throws -> TestClient.Response {
                try await analyst.postForm(path + action, fields)
            }
            func rowCounts() async throws -> [Int] {
                let sql = h.app.db as! any SQLDatabase
                var counts: [Int] = []
                for table in ["incident_timeline", "audit_log", "incident_notes"] {
                    counts.append(try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self))
                }
                return counts
            }

            var response = try await post("/status", ["status": "acknowledged", "version": "1"])
            #expect(response.status == .seeOther && response.location == path)
            response = try await post("/assign", ["assignee": me, "version": "2"])
            #expect(response.status == .seeOther)
            response = try await post("/tasks/1", ["state": "done", "comment": "blocked at the proxy"])
            #expect(response.status == .seeOther)
            response = try await post("/tasks/2", ["state": "skipped"])
            #expect(response.status == .seeOther)
            response = try await post("/notes", ["body": "Source **127.0.0.2** blocked; no account exists for `root`."])
            #expect(response.status == .seeOther)
            response = try await post("/severity", ["severity": "critical", "version": "3"])
            #expect(response.status == .seeOther)

            // Refusals: each names the field, answers 4xx, and writes nothing.
            let before = try await rowCounts()
            let refusals: [(String, [String: String], UInt, String)] = [
                ("/status", ["status": "investigating", "version": "2"], 409, "version"),          // stale
                ("/status", ["status": "new", "version": "4"], 409, "status"),                     // illegal transition
                ("/status", ["status": "closed", "version": "4"], 400, "resolution"),              // closing without a resolution
                ("/status", ["status": "sleeping", "version": "4"], 400, "status"),                // unknown status
                ("/status", ["status": "closed", "resolution": "maybe", "version": "4"], 400, "resolution"),
                ("/severity", ["severity": "urgent", "version": "4"], 400, "severity"),
                ("/assign", ["assignee": "nobody-by-that-name", "version": "4"], 400, "assignee"),
                ("/notes", ["body": String(repeating: "x", count: 16 * 1024 + 1)], 400, "body"),
                ("/notes", ["body": "   "], 400, "body"),
                ("/tasks/99", ["state": "done"], 404, "task"),
                ("/tasks/1", ["state": "finished"], 400, "state"),
                ("/merge", ["target": incident.id, "version": "4"], 409, "target"),
                ("/merge", ["target": "01a00000-0000-7000-8000-000000000000", "version": "4"], 404, "target"),
                ("/title", ["title": "", "version": "4"], 400, "title"),
            ]
            for (action, fields, status, field) in refusals {
                let refused = try await post(action, fields)
                #expect(refused.status.code == status, "\(action) \(fields.keys.sorted()): \(refused.status.code)")
                #expect(refused.body.contains("Not changed: \(field):"), "\(action): \(refused.body.prefix(300))")
            }
            #expect(try await rowCounts() == before, "a refused change wrote rows")
            // The stale message tells the analyst what to do.
            let stale = try await post("/status", ["status": "investigating", "version": "1"])
            #expect(stale.body.contains("reload it to see their change"))
            // Unknown incident: 404 naming it; bad filters: 400 naming the parameter.
            let missing = try await analyst.postForm("/incidents/no-such-incident/status", ["status": "closed", "version": "1"])
            #expect(missing.status == .notFound && missing.body.contains("no-such-incident"))
            let badFilter = try await analyst.get("/incidents?since=yesterday-ish")
            #expect(badFilter.status == .badRequest && badFilter.body.contains("since"))
            #expect(try await analyst.get("/incidents?page=0").status == .badRequest)
            #expect(try await analyst.get("/alerts?level=loud").status == .badRequest)
            #expect(try await analyst.get("/activity?since=nope").status == .badRequest)

            response = try await post("/status", ["status": "closed", "resolution": "true-positive", "version": "4"])
            #expect(response.status == .seeOther)
            let closed = try #require(try await IncidentStore(database: h.app.db).find(incident.id))
            #expect(closed.status == .closed && closed.resolution == .truePositive && closed.severity == .critical)
            #expect(closed.assignee == me && closed.version == 5)
            #expect(closed.acknowledged != nil && closed.resolved != nil && closed.closed != nil)
            // Closed is final.
            let again = try await post("/status", ["status": "investigating", "version": "5"])
            #expect(again.status == .conflict && again.body.contains("closed is final"))
            #expect(try await post("/tasks/3", ["state": "done"]).status == .conflict)

            let whole = try await IncidentStore(database: h.app.db).timeline(incident.id)
            // D-01's policy blocked the source by itself (AutoResponseTests); the rest is the analyst's.
            #expect(whole.contains { $0.kind == "response" && $0.actor == "secmon" })
            let timeline = whole.filter { $0.kind != "response" }
            #expect(timeline.map(\.kind) == ["created", "status", "assignee", "task", "task", "note", "severity", "status"])
            #expect(timeline.dropFirst().allSatisfy { $0.actor == me })
            #expect(timeline.last?.summary == "Status acknowledged → closed (true-positive)")
            let audit = try await AuditTrail.entries({ var f = AuditTrail.Filter(); f.target = "incident:"; return f }(), on: h.app.db as! any SQLDatabase)
            #expect(audit.filter { $0.actor.name == me }.map(\.action).reversed() == [
                "incident.status", "incident.assign", "incident.task", "incident.task", "incident.note", "incident.severity", "incident.status"])
            #expect(audit.allSatisfy { $0.actor.kind == .system || $0.actor.sourceIP == "127.0.0.1" })

            // MTTA and MTTR count it.
            let metrics = try await IncidentStore(database: h.app.db).metrics(since: Timestamp(microseconds: 0))
            #expect(metrics.overall.acknowledged == 1 && metrics.overall.resolved == 1 && metrics.open == 0)
            #expect(try await analyst.get("/incidents").body.contains("MTTA"))
        }
    }

    @Test("merging and moving alerts; two analysts on one incident: the second, stale, change is refused", arguments: TestDatabase.all)
    func mergeAndConflicts(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let simulator = try await Self.simulator(h)
            _ = try await simulator.run(.sessionCycling(user: "sim"))
            _ = try await simulator.run(.apiFlood)
            let incidents = try await Self.incidents(h)
            let cycling = try #require(incidents.first { $0.rule == "D-03" })
            let flood = try #require(incidents.first { $0.rule == "D-02" })
            let alice = try await h.loggedIn(as: .analyst)
            let bob = try await h.loggedIn(as: .analyst)

            // Both load version 1; Alice acknowledges; Bob's change, made on the old page, is refused.
            let a = try await alice.postForm("/incidents/\(cycling.id)/status", ["status": "acknowledged", "version": "1"])
            #expect(a.status == .seeOther)
            let b = try await bob.postForm("/incidents/\(cycling.id)/severity", ["severity": "high", "version": "1"])
            #expect(b.status == .conflict)
            #expect(b.body.contains("someone changed this incident since you loaded it"))
            #expect(try await IncidentStore(database: h.app.db).find(cycling.id)?.severity == .medium)

            // Move one alert of the cycling incident to the flood incident.
            let store = IncidentStore(database: h.app.db)
            let alertIDs = try await store.alertIDs(cycling.id)
            #expect(alertIDs.count == 3)
            let moved = try await alice.postForm("/incidents/\(cycling.id)/alerts/\(alertIDs[0])/move", ["target": flood.id, "version": "2"])
            #expect(moved.status == .seeOther)
            #expect(try await store.alertIDs(cycling.id).count == 2)
            #expect(try await store.alertIDs(flood.id).count == 2)
            #expect(try await store.find(flood.id)?.alertCount == 2)

            // Merge the cycling incident into the flood incident: its alerts move, it closes as a duplicate.
            let merged = try await alice.postForm("/incidents/\(cycling.id)/merge", ["target": flood.id, "version": "3"])
            #expect(merged.status == .seeOther && merged.location == "/incidents/\(flood.id)")
            let source = try #require(try await store.find(cycling.id))
            #expect(source.status == .closed && source.resolution == .duplicate && source.mergedInto == flood.id && source.alertCount == 0)
            let target = try #require(try await store.find(flood.id))
            #expect(target.alertCount == 4)
            #expect(try await store.timeline(flood.id).contains { $0.kind == "merge" && $0.summary.contains(cycling.id) })
            // The merged incident's page points at the other.
            #expect(try await alice.get("/incidents/\(cycling.id)").body.contains("Merged into"))
            // Nothing moves into a closed incident.
            let refused = try await alice.postForm("/incidents/\(flood.id)/merge", ["target": cycling.id, "version": "\(target.version)"])
            #expect(refused.status == .conflict && refused.body.contains("is closed"))
        }
    }

    @Test("notes render XSS payloads inert on the incident page")
    func notesAreInert() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            _ = try await Self.simulator(h).run(.bruteForce)
            let incident = try #require(try await Self.incidents(h).first)
            let analyst = try await h.loggedIn(as: .analyst)
            let payload = "<script>alert('x')</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) [ok](https://example.com/a?b=1&c=2) \"><svg/onload=alert(1)>"
            let response = try await analyst.postForm("/incidents/\(incident.id)/notes", ["body": payload])
            #expect(response.status == .seeOther)
            let page = try await analyst.get("/incidents/\(incident.id)").body
            let notes = try #require(page.range(of: "<div class=\"note-body\">")).upperBound
            let html = String(page[notes...].prefix { $0 != "\n" })
            #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<svg") && !html.contains("href=\"javascript"))
            #expect(html.contains("&lt;script&gt;"))
            #expect(html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\">ok</a>"))
        }
    }

    @Test("incidents, timelines and ids survive a restart", arguments: TestDatabase.all)
    func restart(db: TestDatabase) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-incident-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let databaseConfig = try await db.makeFresh(in: dir)
        var first: IncidentRecord?
        var firstTimeline: [TimelineEntry] = []
        try await SecMonHarness.with(db, directory: dir, databaseConfig: databaseConfig) { h in
            // The attack comes back after the restart: this test wants it heard, not blocked by D-01.
            try await ResponseTests.setPolicy(h, "D-01", enabled: false)
            _ = try await Self.simulator(h).run(.bruteForce)
            let incident = try #require(try await Self.incidents(h).first)
            let analyst = try await h.loggedIn(as: .analyst)
            _ = try await analyst.postForm("/incidents/\(incident.id)/status", ["status": "investigating", "version": "1"])
            first = try await IncidentStore(database: h.app.db).find(incident.id)
            firstTimeline = try await IncidentStore(database: h.app.db).timeline(incident.id)
        }
        try await SecMonHarness.with(db, directory: dir, databaseConfig: databaseConfig) { h in
            let incident = try #require(first)
            let again = try #require(try await IncidentStore(database: h.app.db).find(incident.id))
            #expect(again == incident)
            #expect(try await IncidentStore(database: h.app.db).timeline(incident.id) == firstTimeline)
            #expect(firstTimeline.count == 2)
            // The attack comes back after the restart: its new alert joins the open incident.
            _ = try await Self.simulator(h).run(.bruteForce)
            let incidents = try await Self.incidents(h)
            #expect(incidents.count == 1)
            #expect(incidents.first?.alertCount == 2)
            // Playbooks are not written twice.
            let playbooks = try await PlaybookStore(database: h.app.db as! any SQLDatabase).all()
            #expect(playbooks.count == BundledPlaybooks.all.count)
        }
    }

    @Test("'secmon simulate --all' against a running server: what it sends and expects; remote targets and unknown scenarios refused")
    func simulateCommand() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            try await h.createUser("sim", role: .analyst, password: Self.simPassword)
            let result = try await CommandLineTests.runDetached(["simulate", "--all", "--user", "sim", "--target", h.baseURL, "--timeout", "60"], in: h.directory,
                                                  env: ["SECMON_SIMULATE_PASSWORD": Self.simPassword])
            #expect(result.status == 0, "\(result.error)")
            for line in ["brute-force: 6 failed logins for 'root' (no such account), from 127.0.0.2", "sent 12 requests (",
                         "expect: one incident, D-01, severity high, playbook brute-force, about ip 127.0.0.2, 1 alert(s)",
                         "session-cycling: 3 times: log in as 'sim' and log out at once, from 127.0.0.4",
                         "expect: one incident, D-04, severity low, playbook bot-pattern", "/incidents to see them"] {
                #expect(result.output.contains(line), "missing '\(line)' in:\n\(result.output)")
            }
            let incidents = try await Self.incidents(h)
            #expect(Set(incidents.map(\.rule)) == ["D-01", "D-02", "D-03", "D-04"] && incidents.count == 4)

            // Without an account, --all skips session cycling and says so.
            let skipped = try await CommandLineTests.runDetached(["simulate", "--all", "--target", h.baseURL], in: h.directory)
            #expect(skipped.status == 0 && skipped.output.contains("session-cycling is skipped"))
            let remote = try await CommandLineTests.runDetached(["simulate", "brute-force", "--target", "http://192.0.2.10:8080"], in: h.directory)
            #expect(remote.status == 64 && remote.error.contains("not a loopback address") && remote.error.contains("--allow-remote"))
            let unknown = try await CommandLineTests.runDetached(["simulate", "ddos", "--target", h.baseURL], in: h.directory)
            #expect(unknown.status == 64 && unknown.error.contains("unknown scenario 'ddos'"))
            let needsAccount = try await CommandLineTests.runDetached(["simulate", "session-cycling", "--target", h.baseURL], in: h.directory)
            #expect(needsAccount.status != 0 && needsAccount.error.contains("--user"))
        }
    }

    static func username(_ client: TestClient) async throws -> String {
        let page = try await client.get("/account/password").body
        // The top bar names the user, as the link to their account page.
        let range = try #require(page.range(of: "<span class=\"who\"><a href=\"/account/password\" title=\"Your account: change your password\">"))
        return String(page[range.upperBound...].prefix { $0 != "<" })
    }
}
