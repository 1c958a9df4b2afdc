@testable import App
import Foundation
import SQLKit
import Testing

/// The audit trail: one row per action by a person or by SecMon, readable and filterable by
/// admins, and refused by the database itself when anything tries to change or delete a row.
@Suite("Audit trail", .timeLimit(.minutes(10)))
struct AuditTrailTests {
    @Test("logins, user administration, rule reloads and playbook edits are audited; rows cannot be changed or deleted", arguments: TestDatabase.all)
    func audit(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let sql = h.app.db as! any SQLDatabase
            let admin = try await h.loggedIn(as: .admin)
            _ = try await h.client().login("nobody", "wrong-password-1")
            _ = try await admin.postForm("/admin/users", ["username": "carol", "role": "analyst"])
            _ = try await admin.postForm("/rules/reload", [:])
            let playbooks = try await admin.get("/admin/playbooks")
            #expect(playbooks.status == .ok && playbooks.body.contains("Brute-force login attempt"))
            let edit = try await admin.postForm("/admin/playbooks/brute-force", [
                "title": "Brute force", "description": "edited", "tasks": "Block the IP :: at the proxy\nLock the account", "version": "1"])
            #expect(edit.status == .ok && edit.body.contains("Saved brute-force"))
            let stale = try await admin.postForm("/admin/playbooks/brute-force", ["title": "x", "description": "", "tasks": "a", "version": "1"])
            #expect(stale.status == .conflict && stale.body.contains("someone changed this playbook"))

            let entries = try await AuditTrail.entries(AuditTrail.Filter(), on: sql)
            let actions = Set(entries.map(\.action))
            for action in ["playbook.create", "login.success", "user.password", "login.failure", "user.create", "rules.reload", "playbook.update"] {
                #expect(actions.contains(action), "\(action) missing from \(actions.sorted())")
            }
            let failure = try #require(entries.first { $0.action == "login.failure" })
            #expect(failure.actor.name == "anonymous" && failure.target == "user:nobody" && failure.actor.sourceIP == "127.0.0.1")
            let update = try #require(entries.first { $0.action == "playbook.update" })
            #expect(update.actor.name == "admin" && update.after == "Block the IP :: at the proxy\nLock the account")
            #expect(update.before?.hasPrefix("Block the suspicious IP temporarily") == true)

            // The page: admins only, filters that parse, escaped values.
            let page = try await admin.get("/admin/audit?action=user.&actor=admin")
            #expect(page.status == .ok && page.body.contains("user:carol") && !page.body.contains("login.failure"))
            #expect(try await admin.get("/admin/audit?since=soon").status == .badRequest)
            #expect(try await (try await h.loggedIn(as: .analyst)).get("/admin/audit").status == .forbidden)

            // Append-only, enforced by the database.
            let before = try await AuditTrail.entries(AuditTrail.Filter(), on: sql)
            for statement in ["DELETE FROM audit_log", "UPDATE audit_log SET actor = 'someone-else'"] {
                await #expect(throws: (any Error).self, "\(statement) was allowed") { try await sql.raw(SQLQueryString(statement)).run() }
            }
            let count = try await sql.raw("SELECT COUNT(*) AS n FROM audit_log").first()!.decode(column: "n", as: Int.self)
            #expect(count == before.count)
            #expect(try await AuditTrail.entries(AuditTrail.Filter(), on: sql) == before)
        }
    }
}
