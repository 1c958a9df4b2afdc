@testable import App
import Foundation
import OpenAPIKit
import SecurityModel
import Simulation
import SQLKit
import Testing
import Vapor

/// API v1 as scripts use it: tokens, JSON bodies, cursors, problem documents, and answers that
/// match the OpenAPI document the server serves.
@Suite("API v1", .timeLimit(.minutes(10)))
struct APIv1Tests {
    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Sends with a token (no cookies, no CSRF).
    static func call(_ h: SecMonHarness, _ method: HTTPMethod, _ path: String, token: String, body: [String: Any]? = nil, raw: String? = nil) async throws -> TestClient.Response {
        var headers = [("Authorization", "Bearer \(token)")]
        if body != nil || raw != nil { headers.append(("Content-Type", "application/json")) }
        return try await h.client().send(method, path, headers: headers, body: raw ?? body.map(json))
    }

    static func schemas(_ h: SecMonHarness, token: String) async throws -> SchemaCheck {
        let response = try await call(h, .GET, "/api/v1/openapi.json", token: token)
        #expect(response.status == .ok)
        return SchemaCheck(document: try response.json())
    }

    static func token(_ h: SecMonHarness, _ role: Role, name: String? = nil) async throws -> String {
        try await APITokenStore(database: h.app.db as! any SQLDatabase)
            .create(name: name ?? "test-\(role.rawValue)-\(UUID().uuidString.prefix(6))", role: role, days: 30, by: .secmon).token
    }

    @Test("the OpenAPI 3.1 document lists exactly the v1 routes, each with its role, and validates")
    func document() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let document = APIDocument.document()
            try document.validate()
            #expect(document.openAPIVersion == .v3_1_1)
            let documented = Set(document.paths.flatMap { path, item in
                (item.pathItemValue?.endpoints ?? []).map { "\($0.method.rawValue.uppercased()) \(path.rawValue)" }
            })
            let routes = Set(h.app.routes.all.filter { $0.path.count > 1 && $0.path[0] == "api" && $0.path[1] == "v1" }.map { route in
                "\(route.method.rawValue) /" + route.path.map { component -> String in
                    if case .parameter(let name) = component { return "{\(name)}" }
                    return component.description
                }.joined(separator: "/")
            })
            #expect(documented == routes, "documented, not served: \(documented.subtracting(routes).sorted()); served, not documented: \(routes.subtracting(documented).sorted())")
            // Each endpoint's documented role is the route's policy.
            for endpoint in APIDocument.endpoints {
                let route = h.app.routes.all.first { route in
                    route.method.rawValue == endpoint.method.rawValue.uppercased() && "/" + route.path.map { component -> String in
                        if case .parameter(let name) = component { return "{\(name)}" }
                        return component.description
                    }.joined(separator: "/") == endpoint.path
                }
                #expect(route?.accessPolicy == .role(endpoint.role), "\(endpoint.path)")
            }
            // Served to any logged-in user; anonymous gets a problem document.
            let viewer = try await h.loggedIn(as: .viewer)
            let served = try await viewer.get("/api/v1/openapi.json")
            #expect(served.status == .ok)
            let openapi = try served.json()["openapi"] as? String
            #expect(openapi == "3.1.1")
            let anonymous = try await h.client().get("/api/v1/openapi.json")
            #expect(anonymous.status == .unauthorized && anonymous.headers.first(name: .contentType) == "application/problem+json")
            let anonymousStatus = try anonymous.json()["status"] as? Int
            #expect(anonymousStatus == 401)
        }
    }

    @Test("token life cycle: create (shown once), use (recorded and audited), role-bound, revoke, expiry", arguments: TestDatabase.all)
    func tokenLifeCycle(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let csrf = try await admin.sessionCSRFToken()
            // An admin's session creates a token through the API (with its CSRF token, as any session request).
            let created = try await admin.send(.POST, "/api/v1/tokens", headers: [("Content-Type", "application/json"), ("X-CSRF-Token", csrf)],
                                               body: Self.json(["name": "ticket-sync", "role": "analyst", "days": 7]))
            #expect(created.status == .created, "\(created.body)")
            let token = try #require(try created.json()["token"] as? String)
            #expect(token.hasPrefix("smt_") && token.utf8.count == 47)
            let noCSRF = try await admin.send(.POST, "/api/v1/tokens", headers: [("Content-Type", "application/json")],
                                              body: Self.json(["name": "other", "role": "viewer"]))
            #expect(noCSRF.status == .forbidden)
            let schemas = try await Self.schemas(h, token: token)
            try schemas.expect(created.body, "POST", "/api/v1/tokens", status: 201)
            // Stored hashed: the token itself is nowhere in the table.
            let sql = h.app.db as! any SQLDatabase
            let rows = try await sql.raw("SELECT * FROM api_tokens").all()
            for row in rows { #expect(try row.decode(column: "digest", as: String.self) != token) }

            // Use: within its role; above it, refused; each use recorded.
            let list = try await Self.call(h, .GET, "/api/v1/incidents", token: token)
            #expect(list.status == .ok)
            try schemas.expect(list.body, "GET", "/api/v1/incidents")
            let above = try await Self.call(h, .GET, "/api/v1/audit", token: token)
            #expect(above.status == .forbidden && above.body.contains("may not do this"))
            let aboveType = try above.json()["type"] as? String
            #expect(aboveType == "urn:secmon:problem:forbidden")
            let tokens = try await Self.call(h, .GET, "/api/v1/tokens", token: try await Self.token(h, .admin))
            try schemas.expect(tokens.body, "GET", "/api/v1/tokens")
            let listed = try #require((try tokens.json()["tokens"] as? [[String: Any]])?.first { $0["name"] as? String == "ticket-sync" })
            #expect(listed["token"] == nil, "a token is shown once only")
            #expect(listed["last_used_at"] is String && listed["last_used_ip"] as? String == "127.0.0.1")
            let audit = try await AuditTrail.entries({ var f = AuditTrail.Filter(); f.actor = "token:ticket-sync"; return f }(), on: sql)
            #expect(audit.map(\.action) == ["token.use", "token.use", "token.use"], "openapi.json, incidents, audit")
            #expect(audit.first?.target == "GET /api/v1/audit")
            // Tokens act on the API only: a page with a token is not logged in.
            let page = try await h.client().get("/incidents", headers: [("Authorization", "Bearer \(token)")])
            #expect(page.status == .seeOther)

            // Revoke: refused at once, with why.
            let id = try #require(listed["id"] as? String)
            let revoked = try await admin.send(.POST, "/api/v1/tokens/\(id)/revoke", headers: [("X-CSRF-Token", csrf)])
            let revokedState = try revoked.json()["state"] as? String
            #expect(revoked.status == .ok && revokedState == "revoked")
            let after = try await Self.call(h, .GET, "/api/v1/incidents", token: token)
            #expect(after.status == .unauthorized && after.body.contains("revoked"))
            #expect(after.headers.first(name: "WWW-Authenticate")?.contains("invalid_token") == true)
            // Expired, malformed, unknown, and not a bearer token.
            let old = try await APITokenStore(database: sql).create(name: "old", role: .admin, days: 1, by: .secmon,
                                                                    now: Timestamp(microseconds: Timestamp.now().microseconds - 90_000 * 1_000_000)).token
            let expiredAnswer = try await Self.call(h, .GET, "/api/v1/health", token: old)
            #expect(expiredAnswer.status == .unauthorized && expiredAnswer.body.contains("expired"))
            let malformedAnswer = try await Self.call(h, .GET, "/api/v1/health", token: "smt_x")
            #expect(malformedAnswer.status == .unauthorized && malformedAnswer.body.contains("malformed"))
            let unknownAnswer = try await Self.call(h, .GET, "/api/v1/health", token: "smt_" + String(repeating: "A", count: 43))
            #expect(unknownAnswer.status == .unauthorized && unknownAnswer.body.contains("not known"))
            let basic = try await h.client().send(.GET, "/api/v1/health", headers: [("Authorization", "Basic YWRtaW46eA==")])
            #expect(basic.status == .unauthorized && basic.body.contains("Bearer"))
            // Bad creations name the field.
            for (body, field) in [(["name": "x y", "role": "viewer"], "name"), (["name": "ok", "role": "root"], "role"),
                                  (["name": "ok2", "role": "viewer", "days": 400], "days"), (["name": "ticket-sync", "role": "viewer"], "name"),
                                  (["name": "ok3", "role": "viewer", "scope": "all"], "scope")] as [([String: Any], String)] {
                let refused = try await admin.send(.POST, "/api/v1/tokens", headers: [("Content-Type", "application/json"), ("X-CSRF-Token", csrf)], body: Self.json(body))
                #expect(refused.status.code == 400 || refused.status.code == 409, "\(body)")
                let refusedField = try refused.json()["field"] as? String
                #expect(refusedField == field, "\(body): \(refused.body)")
            }
            // The admin page lists tokens and revokes them too.
            let tokenPage = try await admin.get("/admin/tokens")
            #expect(tokenPage.body.contains("ticket-sync") && tokenPage.body.contains("revoked") && !tokenPage.body.contains(token))
        }
    }

    @Test("a script lists new incidents with a token, closes one as a false positive, and finds that in the audit trail", arguments: TestDatabase.all)
    func scriptEndToEnd(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("sim", role: .viewer, password: "sim-password-123")
            let simulator = try Simulator(target: URL(string: h.baseURL)!, user: "sim", password: "sim-password-123", allowRemote: false, http: h.http, requestTimeout: .seconds(60))
            for scenario in Scenario.all(user: "sim") { _ = try await simulator.run(scenario) }
            try await h.flush()
            let soar = try await Self.token(h, .analyst, name: "soar")
            let schemas = try await Self.schemas(h, token: soar)

            // Cursor pagination over the four new incidents, two at a time.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await Self.call(h, .GET, "/api/v1/incidents?status=new&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: soar)
                #expect(page.status == .ok)
                try schemas.expect(page.body, "GET", "/api/v1/incidents")
                let object = try page.json()
                seen += (object["incidents"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(object["total"] as? Int == 4)
                cursor = object["next_cursor"] as? String
            } while cursor != nil && seen.count < 10
            #expect(seen.count == 4 && Set(seen).count == 4)

            let list = try await Self.call(h, .GET, "/api/v1/incidents?status=new&rule=D-04", token: soar)
            let incident = try #require((try list.json()["incidents"] as? [[String: Any]])?.first)
            let id = try #require(incident["id"] as? String)
            let detail = try await Self.call(h, .GET, "/api/v1/incidents/\(id)", token: soar)
            try schemas.expect(detail.body, "GET", "/api/v1/incidents/{id}")

            // Bad input: each a problem document naming what and why; nothing written.
            let bad: [(String, String, UInt, String?, String)] = [
                ("/status", #"{"stauts": "closed", "version": 1}"#, 400, "stauts", "invalid-body"),
                ("/status", #"{"status": "closed", "version": "one"}"#, 400, nil, "invalid-body"),
                ("/status", "status=closed", 400, nil, "invalid-body"),
                ("/status", #"{"status": "closed", "version": 1}"#, 400, "resolution", "invalid-value"),
                ("/status", #"{"status": "closed", "resolution": "false-positive", "version": 7}"#, 409, "version", "stale-version"),
                ("/tasks/99", #"{"state": "done"}"#, 404, "task", "not-found"),
            ]
            for (action, body, status, field, type) in bad {
                let response = try await Self.call(h, .POST, "/api/v1/incidents/\(id)\(action)", token: soar, raw: body)
                #expect(response.status.code == status, "\(action) \(body): \(response.body)")
                #expect(response.headers.first(name: .contentType) == "application/problem+json")
                let problem = try response.json()
                #expect(problem["field"] as? String == field && problem["type"] as? String == "urn:secmon:problem:\(type)", "\(body): \(problem)")
                #expect(problem["instance"] as? String == "/api/v1/incidents/\(id)\(action)" && problem["status"] as? Int == Int(status))
                try schemas.expect(response.body, "POST", "/api/v1/incidents/{id}" + (action.hasPrefix("/tasks") ? "/tasks/{position}" : action), status: Int(status))
            }
            let tampered = String(try #require(try await Self.call(h, .GET, "/api/v1/incidents?limit=1", token: soar).json()["next_cursor"] as? String).dropLast(2)) + "AA"
            let refused = try await Self.call(h, .GET, "/api/v1/incidents?cursor=\(tampered)", token: soar)
            let refusedField = try refused.json()["field"] as? String
            #expect(refused.status == .badRequest && refusedField == "cursor")
            let alertsCursor = try #require(try await Self.call(h, .GET, "/api/v1/alerts?limit=1", token: soar).json()["next_cursor"] as? String)
            let crossed = try await Self.call(h, .GET, "/api/v1/incidents?cursor=\(alertsCursor)", token: soar)
            #expect(crossed.status == .badRequest && crossed.body.contains("another listing"))
            let unchanged = try await IncidentStore(database: h.app.db).find(id)
            #expect(unchanged?.version == 1, "a refused change wrote something")

            // Close it as a false positive.
            let closed = try await Self.call(h, .POST, "/api/v1/incidents/\(id)/status", token: soar,
                                             body: ["status": "closed", "resolution": "false-positive", "version": 1])
            #expect(closed.status == .ok, "\(closed.body)")
            try schemas.expect(closed.body, "POST", "/api/v1/incidents/{id}/status")
            let object = try closed.json()
            #expect(object["status"] as? String == "closed" && object["resolution"] as? String == "false-positive" && object["version"] as? Int == 2)

            // The audit trail (read with an admin token) says who closed it.
            let auditor = try await Self.token(h, .admin, name: "auditor")
            let audit = try await Self.call(h, .GET, "/api/v1/audit?action=incident.status&target=incident:\(id)", token: auditor)
            try schemas.expect(audit.body, "GET", "/api/v1/audit")
            let entries = try #require(try audit.json()["entries"] as? [[String: Any]])
            #expect(entries.count == 1 && entries.first?["actor"] as? String == "token:soar" && entries.first?["after"] as? String == "closed (false-positive)")

            // The rest of v1 answers with its schemas.
            for path in ["/api/v1/alerts", "/api/v1/events", "/api/v1/playbooks", "/api/v1/rules", "/api/v1/health"] {
                let response = try await Self.call(h, .GET, path, token: auditor)
                #expect(response.status == .ok, "\(path)")
                try schemas.expect(response.body, "GET", path)
            }
            for path in ["/api/v1/rules/validate", "/api/v1/rules/reload"] {
                let response = try await Self.call(h, .POST, path, token: auditor)
                #expect(response.status == .ok, "\(path): \(response.body)")
                try schemas.expect(response.body, "POST", path)
            }
            let playbook = try await Self.call(h, .POST, "/api/v1/playbooks/bot-pattern", token: auditor,
                                               body: ["title": "Bot", "description": "d", "tasks": [["title": "Look", "detail": "at it"]], "version": 1])
            #expect(playbook.status == .ok, "\(playbook.body)")
            try schemas.expect(playbook.body, "POST", "/api/v1/playbooks/{name}")
            // The old API routes still answer.
            let old = try await Self.call(h, .GET, "/api/alerts", token: auditor)
            #expect(old.status == .ok)
        }
    }
}
