@testable import App
import EventPipeline
import Foundation
import NIOHTTP1
import SecurityModel
import SQLKit
import Testing
import Vapor

/// Every route times every kind of user, generated from the application's own route table:
/// a route added without a policy, or with a policy other than the one expected here, fails.
// Alone it takes under a minute (both databases); beside the whole suite on two cores, up to six.
@Suite("Role matrix", .timeLimit(.minutes(10)))
struct RoleMatrixTests {
    /// The intended policy of every route. A new route must be added here to pass.
    static let expected: [String: AccessPolicy] = [
        "GET /login": .anyone, "POST /login": .anyone, "GET /healthz": .anyone,
        "POST /logout": .loggedIn, "GET /account/password": .loggedIn, "POST /account/password": .loggedIn,
        "GET /": .role(.viewer), "GET /api/status": .role(.viewer), "GET /api/me": .role(.viewer),
        "GET /activity": .role(.analyst), "GET /api/events": .role(.analyst), "GET /api/alerts": .role(.analyst),
        "GET /api/users": .role(.admin), "GET /admin/users": .role(.admin), "POST /admin/users": .role(.admin),
        "POST /admin/users/:id/role": .role(.admin), "POST /admin/users/:id/lock": .role(.admin),
        "POST /admin/users/:id/unlock": .role(.admin), "POST /admin/users/:id/reset-password": .role(.admin),
        "POST /rules/reload": .role(.admin), "POST /api/rules/reload": .role(.admin),
        "GET /incidents": .role(.viewer), "GET /incidents/:id": .role(.viewer), "GET /alerts": .role(.viewer),
        "POST /incidents/:id/status": .role(.analyst), "POST /incidents/:id/severity": .role(.analyst),
        "POST /incidents/:id/assign": .role(.analyst), "POST /incidents/:id/title": .role(.analyst),
        "POST /incidents/:id/merge": .role(.analyst), "POST /incidents/:id/alerts/:alert/move": .role(.analyst),
        "POST /incidents/:id/notes": .role(.analyst), "POST /incidents/:id/tasks/:position": .role(.analyst),
        "GET /admin/audit": .role(.admin), "GET /admin/export": .role(.admin), "POST /ingest": .anyone, "POST /sources/ingest-keys": .role(.admin),
        "POST /sources/ingest-keys/:id/revoke": .role(.admin), "GET /admin/logs": .role(.admin), "POST /admin/logs/verify": .role(.admin), "POST /admin/export/test": .role(.admin), "POST /admin/export/notify-test": .role(.admin), "GET /admin/playbooks": .role(.admin), "POST /admin/playbooks/:name": .role(.admin),
        "GET /admin/tokens": .role(.admin), "POST /admin/tokens": .role(.admin), "POST /admin/tokens/:id/revoke": .role(.admin),
        "GET /api/v1/incidents": .role(.viewer), "GET /api/v1/incidents/:id": .role(.viewer),
        "POST /api/v1/incidents/:id/status": .role(.analyst), "POST /api/v1/incidents/:id/severity": .role(.analyst),
        "POST /api/v1/incidents/:id/assign": .role(.analyst), "POST /api/v1/incidents/:id/title": .role(.analyst),
        "POST /api/v1/incidents/:id/merge": .role(.analyst), "POST /api/v1/incidents/:id/alerts/:alert/move": .role(.analyst),
        "POST /api/v1/incidents/:id/notes": .role(.analyst), "POST /api/v1/incidents/:id/tasks/:position": .role(.analyst),
        "GET /api/v1/alerts": .role(.viewer), "GET /api/v1/events": .role(.analyst), "GET /api/v1/audit": .role(.admin),
        "GET /api/v1/playbooks": .role(.viewer), "POST /api/v1/playbooks/:name": .role(.admin),
        "GET /api/v1/rules": .role(.viewer), "POST /api/v1/rules/validate": .role(.admin), "POST /api/v1/rules/reload": .role(.admin),
        "GET /api/v1/health": .role(.viewer), "GET /api/v1/tokens": .role(.admin), "POST /api/v1/tokens": .role(.admin),
        "POST /api/v1/tokens/:id/revoke": .role(.admin), "GET /api/v1/openapi.json": .role(.viewer),
        "GET /response": .role(.analyst), "POST /response/act": .role(.analyst), "POST /response/:id/undo": .role(.analyst),
        "POST /response/:id/edit": .role(.analyst), "POST /incidents/:id/respond": .role(.analyst),
        "GET /response/policies": .role(.analyst), "POST /response/policies": .role(.admin),
        "GET /api/v1/responses": .role(.analyst), "POST /api/v1/responses": .role(.analyst),
        "POST /api/v1/responses/:id/edit": .role(.analyst), "POST /api/v1/responses/:id/undo": .role(.analyst),
        "GET /api/v1/response-policies": .role(.analyst), "GET /live": .role(.viewer), "GET /dashboard/panels": .role(.viewer),
        "GET /rules": .role(.viewer), "POST /rules/:rule/enabled": .role(.admin), "POST /rules/:rule/test": .role(.analyst), "POST /api/v1/response-policies/:rule": .role(.admin),
        "GET /api/v1/blocks": .role(.analyst), "POST /api/v1/blocks": .role(.analyst), "POST /api/v1/blocks/:id/undo": .role(.analyst),
        // Host monitoring: the system for everyone; processes, sockets and host events (command
        // lines and peers can hold secrets) for analysts.
        "GET /host": .role(.viewer), "GET /host/processes": .role(.analyst), "GET /host/network": .role(.analyst),
        "GET /api/v1/host/system": .role(.viewer), "GET /api/v1/host/metrics": .role(.viewer),
        "GET /api/v1/host/processes": .role(.analyst), "GET /api/v1/host/sockets": .role(.analyst), "GET /api/v1/host/events": .role(.analyst),
        // Indicator lists: analysts read and download them; administrators change them.
        "GET /indicators": .role(.analyst), "GET /indicators.yml": .role(.analyst),
        "POST /indicators": .role(.admin), "POST /indicators/:name/delete": .role(.admin),
        "GET /files/integrity": .role(.analyst), "POST /files/integrity/check": .role(.admin), "POST /files/integrity/baseline": .role(.admin),
        "POST /files/integrity/accept": .role(.admin), "POST /files/integrity/changes/:id/accept": .role(.admin),
        "POST /files/integrity/settings": .role(.admin), "GET /files/scans": .role(.analyst), "POST /files/scans": .role(.analyst),
        "GET /files/scans/:id": .role(.analyst),
        "GET /api/v1/files/integrity": .role(.analyst), "GET /api/v1/files/integrity/changes": .role(.analyst),
        "POST /api/v1/files/integrity/check": .role(.admin), "POST /api/v1/files/integrity/changes/:id/accept": .role(.admin),
        "GET /api/v1/files/scans": .role(.analyst), "GET /api/v1/files/scans/:id": .role(.analyst), "POST /api/v1/files/scans": .role(.analyst),
        "GET /tools": .role(.admin), "POST /tools/dns": .role(.admin), "POST /tools/port": .role(.admin), "POST /tools/url": .role(.admin),
        "POST /tools/settings": .role(.admin),
        "GET /host/processes/:pid/terminate": .role(.admin), "POST /host/processes/:pid/terminate": .role(.admin),
        "GET /host/score": .role(.viewer), "POST /host/score/compute": .role(.analyst), "POST /host/score/weights": .role(.admin),
        "GET /api/v1/host/score": .role(.viewer), "GET /sources": .role(.analyst), "GET /api/v1/sources": .role(.analyst), "POST /api/v1/host/processes/:pid/terminate": .role(.admin),
        "GET /api/v1/files/quarantine": .role(.admin), "POST /api/v1/files/quarantine": .role(.admin), "POST /api/v1/files/quarantine/:id/restore": .role(.admin),
        "GET /files/quarantine": .role(.admin), "POST /files/quarantine": .role(.admin), "POST /files/quarantine/:id/restore": .role(.admin),
        "POST /files/quarantine/settings": .role(.admin),
        "POST /api/v1/tools/dns": .role(.admin), "POST /api/v1/tools/port": .role(.admin), "POST /api/v1/tools/url": .role(.admin),
    ]

    /// Routes that stream their body (uploads): their CSRF token goes in the query.
    static let streamed: Set<String> = ["POST /files/scans", "POST /api/v1/files/scans"]

    /// What each handler answers when the access check lets the matrix's request through (the
    /// request has no form fields): 200 unless listed. A 5xx is never "allowed".
    /// Routes that take a key of their own, not a session or an API token (other hosts' ingest).
    static let ownKey: Set<String> = ["POST /ingest"]

    static let handled: [String: Set<UInt>] = [
        "GET /login": [200, 303],            // a logged-in user is sent on to where they were going
        "POST /login": [403],                // the login form's own token is missing
        "POST /admin/export/test": [409],    // no export configured in this server
        "POST /sources/ingest-keys": [400],  // no source name
        "POST /sources/ingest-keys/:id/revoke": [404],  // no such key
        "POST /admin/export/notify-test": [409],  // no webhook configured in this server
        "POST /indicators": [400],           // no list name
        "POST /indicators/:name/delete": [404],  // no such list
        "POST /logout": [303],
        "POST /account/password": [400],     // an empty form
        "POST /admin/users": [400],          // no user name or role
        "POST /admin/users/:id/role": [400], // no role
        // An incident's actions, each without its form fields: the page again, with what is missing.
        "POST /incidents/:id/status": [400], "POST /incidents/:id/severity": [400], "POST /incidents/:id/assign": [400],
        "POST /incidents/:id/title": [400], "POST /incidents/:id/merge": [400], "POST /incidents/:id/alerts/:alert/move": [400],
        "POST /incidents/:id/notes": [400], "POST /incidents/:id/tasks/:position": [400],
        "POST /admin/playbooks/:name": [400],  // no version
        "POST /admin/tokens": [400],           // no name or role
        "POST /admin/tokens/:id/revoke": [404], // the matrix's :id is a user's id
        // API v1 actions take a JSON body: a form (or nothing) is refused by name.
        "POST /api/v1/incidents/:id/status": [400], "POST /api/v1/incidents/:id/severity": [400],
        "POST /api/v1/incidents/:id/assign": [400], "POST /api/v1/incidents/:id/title": [400],
        "POST /api/v1/incidents/:id/merge": [400], "POST /api/v1/incidents/:id/alerts/:alert/move": [400],
        "POST /api/v1/incidents/:id/notes": [400], "POST /api/v1/incidents/:id/tasks/:position": [400],
        "POST /api/v1/playbooks/:name": [400], "POST /api/v1/tokens": [400], "POST /api/v1/tokens/:id/revoke": [404],
        "POST /response/act": [400], "POST /response/:id/undo": [404], "POST /response/:id/edit": [404], "POST /incidents/:id/respond": [400],
        "POST /response/policies": [400], "GET /live": [400], "POST /rules/:rule/enabled": [400], "POST /rules/:rule/test": [404], "POST /api/v1/responses": [400], "POST /api/v1/responses/:id/edit": [400],
        "POST /api/v1/responses/:id/undo": [404], "POST /api/v1/response-policies/:rule": [400],
        "POST /api/v1/blocks": [400], "POST /api/v1/blocks/:id/undo": [404],
        // Files: the matrix's :id is a user's id; the settings form is empty; an upload of the
        // form's bytes is scanned (and the page redirects to its report).
        "POST /files/integrity/changes/:id/accept": [404], "POST /files/integrity/settings": [400], "POST /files/scans": [303],
        "GET /files/scans/:id": [404], "POST /api/v1/files/integrity/changes/:id/accept": [404], "GET /api/v1/files/scans/:id": [404],
        "POST /api/v1/files/scans": [201],
        // Tools: an empty form or body is refused by name (nothing is looked up); empty settings save.
        "POST /tools/dns": [400], "POST /tools/port": [400], "POST /tools/url": [400],
        "POST /api/v1/tools/dns": [400], "POST /api/v1/tools/port": [400], "POST /api/v1/tools/url": [400],
        // Host response: no start time, no path, no such quarantined file: refused, nothing done.
        "POST /host/processes/:pid/terminate": [400], "POST /files/quarantine": [400], "POST /files/quarantine/:id/restore": [404],
        "POST /host/score/weights": [400],
        "POST /api/v1/host/processes/:pid/terminate": [400], "POST /api/v1/files/quarantine": [400], "POST /api/v1/files/quarantine/:id/restore": [404],
    ]

    enum Who: String, CaseIterable {
        case anonymous, mustChangePassword, viewer, analyst, admin
    }

    @Test("every route has the expected policy, and every role gets exactly what the policy says", arguments: TestDatabase.all)
    func matrix(db: TestDatabase) async throws {
        // With the host sensors running, so that their routes answer as in `secmon serve`.
        try await SecMonHarness.with(db, adjust: { $0.hostSensors = HostSensorsSupport.configuration(interval: .seconds(5)) }) { h in
            try await HostSensorsSupport.waitForFirstReading(h)
            // File integrity watches a small tree of the test's own, not the machine's /etc and /usr/bin.
            let tree = h.directory.appendingPathComponent("fim-tree").path
            try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
            try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/passwd"))
            try await FileIntegrityStore(database: h.app.db as! any SQLDatabase).saveSettings(paths: [tree], ignore: [], by: .secmon, on: h.app.db)
            let routes = h.app.routes.all
            #expect(routes.count == Self.expected.count, "routes in the app: \(routes.map(Self.key))")
            let target = try await h.app.secmon.users(on: h.app.db)
                .create(username: "target", role: .viewer, password: "target-password-1", mustChangePassword: false).0
            let targetID = try target.requireID().uuidString.lowercased()
            // A real incident (and its alert) for the incident routes.
            let now = Timestamp.now()
            let alert = SecurityAlert(id: EventID.make(at: now), rule: "D-01", title: "Brute force", level: .high,
                                      group: [.init(field: "ip_address", value: "192.0.2.1")], entities: [.init(.ip, "192.0.2.1")],
                                      firstTime: now, lastTime: now, eventCount: 4, evidence: [], status: .open, node: "matrix", playbook: "brute-force")
            guard case .created(let incidentID) = try await IncidentStore(database: h.app.db).ingest(alert, previousCount: nil) else {
                Issue.record("the matrix's incident was not created"); return
            }
            func path(_ route: Route) -> String {
                let incident = route.path.contains { $0.description == "incidents" }
                return "/" + route.path.map { component -> String in
                    switch component {
                    case .parameter("id"): return incident ? incidentID : targetID
                    case .parameter("alert"): return alert.id
                    case .parameter("position"): return "1"
                    case .parameter("name"): return "brute-force"
                    case .parameter("pid"): return "2147483646"  // no such process
                    default: return component.description
                    }
                }.joined(separator: "/")
            }
            var checked = 0
            for route in routes {
                let key = Self.key(route)
                let policy = try #require(route.accessPolicy, "route \(key) was registered without an access policy")
                #expect(Self.expected[key] == policy, "route \(key) has policy \(policy), expected \(String(describing: Self.expected[key]))")
                for who in Who.allCases {
                    let client = try await Self.client(who, h)
                    let path = path(route)
                    let response: TestClient.Response
                    if route.method == .GET {
                        response = try await client.get(path)
                    } else {
                        let csrf = who == .anonymous ? "none" : try await client.sessionCSRFToken()
                        let target = Self.streamed.contains(key) ? path + "?csrf_token=" + TestClient.encode(csrf) : path
                        response = try await client.postForm(target, ["csrf_token": csrf], csrf: false)
                    }
                    // A route with a key of its own refuses everyone who does not send it, logged in or not.
                    let allowed = Self.ownKey.contains(key) ? false : Self.allowedByPolicy(policy, who)
                    let denied = Self.isDenial(response)
                    #expect(denied == !allowed, "\(who) on \(key): status \(response.status.code), location \(response.location ?? "-"), expected \(allowed ? "allowed" : "denied")")
                    // Allowed means handled: a server error is not "allowed".
                    if allowed {
                        // Allowed means handled, with the handler's own answer to this empty request.
                        let handled = Self.handled[key] ?? [200]
                        #expect(handled.contains(response.status.code), "\(who) on \(key): status \(response.status.code), expected one of \(handled.sorted())")
                    }
                    checked += 1
                }
            }
            #expect(checked == Self.expected.count * Who.allCases.count)

            // API tokens on every /api/ route: a token acts with its role, never more; a revoked,
            // expired or malformed one is refused (401) everywhere, with why.
            let tokens = APITokenStore(database: h.app.db as! any SQLDatabase)
            var bearer: [Role: String] = [:]
            for role in Role.allCases {
                bearer[role] = try await tokens.create(name: "matrix-\(role.rawValue)", role: role, days: 1, by: .secmon).token
            }
            let revoked = try await tokens.create(name: "matrix-revoked", role: .admin, days: 1, by: .secmon)
            _ = try await tokens.revoke(id: revoked.record.id, by: .secmon)
            let expired = try await tokens.create(name: "matrix-expired", role: .admin, days: 1, by: .secmon,
                                                  now: Timestamp(microseconds: Timestamp.now().microseconds - 2 * 86_400 * 1_000_000)).token
            let client = h.client()
            var tokenChecks = 0
            for route in routes where route.path.first?.description == "api" {
                let key = Self.key(route)
                let policy = try #require(route.accessPolicy)
                for role in Role.allCases {
                    let response = try await client.send(route.method, path(route), headers: [("Authorization", "Bearer \(bearer[role]!)")])
                    let allowed = policy.allows(Principal(sessionDigest: "", userID: UUID(), username: "t", role: role, mustChangePassword: false, csrfToken: ""))
                    if allowed {
                        let handled = Self.handled[key] ?? [200]
                        #expect(handled.contains(response.status.code), "token \(role) on \(key): \(response.status.code) \(response.body.prefix(200))")
                    } else {
                        #expect(response.status == .forbidden && response.body.contains("may not do this"), "token \(role) on \(key): \(response.status.code)")
                    }
                    tokenChecks += 1
                }
                for (what, token) in [("revoked", revoked.token), ("expired", expired), ("malformed", "smt_short")] {
                    let response = try await client.send(route.method, path(route), headers: [("Authorization", "Bearer \(token)")])
                    #expect(response.status == .unauthorized && response.body.contains(what == "malformed" ? "malformed" : what), "\(what) token on \(key): \(response.status.code) \(response.body.prefix(200))")
                }
            }
            #expect(tokenChecks >= 25 * 3)

            // Every state-changing route of a session needs its CSRF token, even for an admin.
            let admin = try await Self.client(.admin, h)
            let posts = routes.filter { $0.method == .POST && $0.accessPolicy != .anyone }
            #expect(posts.count >= 9)
            for route in posts {
                let path = path(route)
                let response = try await admin.postForm(path, [:], csrf: false)
                #expect(response.status == .forbidden, "POST \(path) without a token: \(response.status.code)")
                #expect(response.body.contains("CSRF"), "POST \(path) without a token: \(response.body.prefix(200))")
            }
        }
    }

    static func key(_ route: Route) -> String {
        "\(route.method.rawValue) /" + route.path.map(\.description).joined(separator: "/")
    }

    /// The intended meaning of each policy, written out independently of `AccessPolicy.allows`.
    static func allowedByPolicy(_ policy: AccessPolicy, _ who: Who) -> Bool {
        switch (policy, who) {
        case (.anyone, _): return true
        case (.loggedIn, .anonymous): return false
        case (.loggedIn, _): return true
        case (.role, .anonymous), (.role, .mustChangePassword): return false
        case (.role(.viewer), _): return true
        case (.role(.analyst), let who): return who == .analyst || who == .admin
        case (.role(.admin), let who): return who == .admin
        }
    }

    /// A refusal by the access check: 401, a 403 about role or password, or a redirect to log in
    /// or to the forced password change.
    static func isDenial(_ response: TestClient.Response) -> Bool {
        if response.status == .unauthorized { return true }
        if response.status == .forbidden {
            return response.body.contains("may not do this") || response.body.contains("Change the initial password")
        }
        if response.status == .seeOther, let location = response.location {
            return location.hasPrefix("/login?next=") || location == "/account/password"
        }
        return false
    }

    static func client(_ who: Who, _ h: SecMonHarness) async throws -> TestClient {
        let client = h.client()
        switch who {
        case .anonymous:
            return client
        case .mustChangePassword:
            let name = "fresh-\(UUID().uuidString.prefix(8))".lowercased()
            _ = try await h.app.secmon.users(on: h.app.db).create(username: name, role: .admin, password: "fresh-password-1", mustChangePassword: true)
            #expect(try await client.login(name, "fresh-password-1").location == "/account/password")
            return client
        case .viewer, .analyst:
            return try await h.loggedIn(as: who == .viewer ? .viewer : .analyst)
        case .admin:
            let name = "admin-\(UUID().uuidString.prefix(8))".lowercased()
            try await h.createUser(name, role: .admin)
            #expect(try await client.login(name, "user-password-123").status == .seeOther)
            return client
        }
    }
}
