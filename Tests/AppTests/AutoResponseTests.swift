@testable import App
import ActiveResponse
import EventPipeline
import Foundation
import Logging
import SecurityModel
import SQLKit
import NIOHTTP1
import Testing

/// Automatic response: the rules' policies carried out for new alerts (D-01 blocks with
/// escalation, D-02 rate-limits and watchlists, D-06 locks the account that logged in and ends its
/// sessions), the allowlist (built in, entries, administrators' addresses) honoured, dry runs that
/// change nothing, and every action explained on the timeline and in the audit trail.
@Suite("Response: automatic", .timeLimit(.minutes(10)))
struct AutoResponseTests {
    static func alert(_ rule: String, ip: String? = nil, user: String? = nil, level: Severity = .high, firstTime: Timestamp = .now()) -> SecurityAlert {
        var entities: [Entity] = []
        var group: [SecurityAlert.GroupValue] = []
        if let ip {
            entities.append(Entity(.ip, ip))
            group.append(.init(field: "ip_address", value: ip))
        }
        if let user {
            entities.append(Entity(.user, user))
            group.append(.init(field: "username", value: user))
        }
        return SecurityAlert(id: UUID().uuidString.lowercased(), rule: rule, title: "test \(rule)", level: level, group: group, entities: entities,
                             firstTime: firstTime, lastTime: Timestamp.now(), eventCount: 5, evidence: [], status: .open, node: "test")
    }

    static func responder(_ h: SecMonHarness, dryRun: Bool = false) -> ActiveResponder {
        ActiveResponder(database: { h.app.db }, sessions: h.app.secmon.sessions, responses: h.app.secmon.runtime.responses, dryRun: dryRun,
                        logger: Logger(label: "test"))
    }

    static func audit(_ h: SecMonHarness, _ prefix: String) async throws -> [AuditTrail.Entry] {
        try await AuditTrail.entries({ var f = AuditTrail.Filter(); f.action = prefix; return f }(), on: h.app.db as! any SQLDatabase)
    }

    @Test("D-01 blocks the brute-forcing source by itself, says why on the incident, and later blocks escalate", arguments: TestDatabase.all)
    func bruteForceBlocks(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            _ = try await IncidentTests.simulator(h).run(.bruteForce)
            let incident = try #require(try await IncidentTests.incidents(h).first { $0.rule == "D-01" })
            var blocks: [ResponseStore.Action] = []
            for _ in 0..<200 where blocks.isEmpty {
                blocks = try await ResponseStore(database: h.app.db).activeBlocks()
                if blocks.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
            }
            let block = try #require(blocks.first)
            #expect(block.target == "127.0.0.2" && block.rule == "D-01" && block.incidentID == incident.id && block.actor == "secmon")
            // The first block lasts the policy's 10 minutes.
            #expect(block.expires.map { ($0.microseconds - block.created.microseconds) / 60_000_000 } == 10)
            #expect(try await ResponseTests.attacker(h, "127.0.0.2").get("/login").status == .forbidden)
            let timeline = try await IncidentStore(database: h.app.db).timeline(incident.id)
            #expect(timeline.contains { $0.kind == "response" && $0.actor == "secmon" && $0.summary.contains("Blocked 127.0.0.2") && $0.summary.contains("policy of D-01") })
            #expect(try await Self.audit(h, "response.block").contains { $0.actor.name == "secmon" && $0.target == "ip:127.0.0.2" })

            // A repeat offender: after the block is lifted, the next D-01 alert blocks for 10 × 4 minutes, then 160.
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.postForm("/response/\(block.id)/undo", [:]).status == .ok)
            for expected in [40, 160] {
                let taken = await Self.responder(h).respond(to: Self.alert("D-01", ip: "127.0.0.2"), incident: nil)
                let again = try #require(taken.actions.first)
                #expect(again.expires.map { ($0.microseconds - again.created.microseconds) / 60_000_000 } == Int64(expected))
                _ = try await ResponseStore(database: h.app.db).undo(again.id, by: .user("test", ip: nil))
            }
        }
    }

    @Test("the allowlist prevents every automatic action: built in, an entry, an administrator's address; what was not done is said", arguments: TestDatabase.all)
    func allowlist(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let allowed = try await admin.postForm("/response/act", ["kind": "allow", "target": "192.0.2.0/24", "minutes": "0", "reason": "office"])
            #expect(allowed.status == .ok && allowed.body.contains("Allowlisted 192.0.2.0/24"), "\(allowed.body.prefix(300))")
            // An administrator logged in from 127.0.0.44 before the attack began.
            let remoteAdmin = ResponseTests.attacker(h, "127.0.0.44")
            _ = try await remoteAdmin.login("admin", SecMonHarness.changedAdminPassword)
            try await Task.sleep(for: .milliseconds(1100))
            let responder = Self.responder(h)
            for ip in ["127.0.0.1", "192.0.2.7", "127.0.0.44"] {
                let taken = await responder.respond(to: Self.alert("D-01", ip: ip), incident: nil)
                #expect(taken.isEmpty, "\(ip) was acted on")
            }
            let skipped = try await Self.audit(h, "response.skipped")
            #expect(skipped.count == 3)
            #expect(skipped.contains { $0.after?.contains("this machine") == true })
            #expect(skipped.contains { $0.after?.contains("office") == true })
            #expect(skipped.contains { $0.after?.contains("administrator admin is logged in from 127.0.0.44") == true })
            // An analyst may not change the allowlist.
            let analyst = try await h.loggedIn(as: .analyst)
            let refused = try await analyst.postForm("/response/act", ["kind": "allow", "target": "198.51.100.1", "minutes": "0", "reason": "x"])
            #expect(refused.status == .forbidden)
            // A manual block of an allowlisted network is refused too.
            let manual = try await analyst.postForm("/response/act", ["kind": "block", "target": "192.0.2.9", "minutes": "10", "reason": "x"])
            #expect(manual.status == .badRequest && manual.body.contains("allowlist"))
        }
    }

    @Test("dry run records what would have been done and changes nothing")
    func dryRun() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.responseDryRun = true }) { h in
            _ = try await IncidentTests.simulator(h).run(.bruteForce)
            let incident = try #require(try await IncidentTests.incidents(h).first { $0.rule == "D-01" })
            var recorded: [ResponseStore.Action] = []
            for _ in 0..<200 where recorded.isEmpty {
                recorded = try await ResponseStore(database: h.app.db).recent(incident: incident.id)
                if recorded.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
            }
            let action = try #require(recorded.first)
            #expect(action.dryRun && action.kind == "block" && action.target == "127.0.0.2")
            #expect(try await ResponseStore(database: h.app.db).activeBlocks().isEmpty)
            #expect(try await ResponseTests.attacker(h, "127.0.0.2").get("/login").status == .ok)
            let analyst = try await h.loggedIn(as: .analyst)
            let page = try await analyst.get("/incidents/\(incident.id)")
            #expect(page.body.contains("Would have blocked 127.0.0.2") && page.body.contains("dry run"))
            let undo = try await analyst.postForm("/response/\(action.id)/undo", [:])
            #expect(undo.status == .conflict && undo.body.contains("dry run"))
            #expect(try await analyst.get("/response").body.contains("id=\"dry-run-mode\""))
        }
    }

    @Test("D-02 rate-limits the source (429 with Retry-After) and watchlists it: its later alerts are raised and say why", arguments: TestDatabase.all)
    func rateLimitAndWatch(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            // 6 a minute (a burst of 1, then one every 10 s): slow enough to see on a loaded machine.
            let policies = ResponsePolicyStore(database: h.app.db as! any SQLDatabase)
            let d02 = try #require(try await policies.find("D-02"))
            var policy = d02.policy
            policy.ratePerMinute = 6
            _ = try await policies.save(policy, version: d02.version, knownRules: ["D-02"], by: .user("test", ip: nil), on: h.app.db)
            let taken = await Self.responder(h).respond(to: Self.alert("D-02", ip: "127.0.0.50", level: .medium), incident: nil)
            #expect(Set(taken.actions.map(\.kind)) == ["ratelimit", "watch"])
            let client = ResponseTests.attacker(h, "127.0.0.50")
            var statuses: [Int] = []
            var retryAfter: String?
            for _ in 0..<4 {
                let response = try await client.get("/login")
                statuses.append(Int(response.status.code))
                if response.status == .tooManyRequests { retryAfter = response.headers.first(name: "Retry-After") }
            }
            #expect(statuses == [200, 429, 429, 429], "\(statuses)")
            #expect(retryAfter.flatMap(Int.init).map { (1...10).contains($0) } == true)
            #expect(try await ResponseTests.attacker(h, "127.0.0.51").get("/login").status == .ok)
            try await h.flush()
            let lines = try await h.logObjects().filter { $0["action"] as? String == "REQUEST_RATE_LIMITED" }
            #expect(lines.count == 3 && lines.allSatisfy { $0["status"] as? Int == 429 })

            // A later alert about the watched address: a medium rule's alert becomes high, and says why.
            let bus = try #require(h.app.secmon.runtime.alerts)
            let later = Self.alert("D-04", ip: "127.0.0.50", level: .medium, firstTime: Timestamp(microseconds: Timestamp.now().microseconds + 1000))
            bus.publish([later])
            let stored = try #require(try await LiveDetectionTests.waitFor(h, rule: "D-04") { !$0.note.isEmpty })
            #expect(stored.level == .high && stored.note.contains("127.0.0.50 is on the watchlist") && stored.note.contains("raised from medium to high"))
            var incident: IncidentRecord?
            for _ in 0..<200 where incident == nil {
                incident = try await IncidentTests.incidents(h).first { $0.rule == "D-04" }
                if incident == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            let opened = try #require(incident)
            #expect(opened.severity == .high)
            #expect(try await IncidentStore(database: h.app.db).timeline(opened.id).contains { $0.summary.contains("on the watchlist") })
        }
    }

    @Test("D-06 locks the account that logged in after many failures and ends its sessions; undo unlocks", arguments: TestDatabase.all)
    func successAfterFailuresLocks(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("carol", role: .viewer)
            // Carol is logged in elsewhere: that session ends too.
            let elsewhere = ResponseTests.attacker(h, "127.0.0.61")
            _ = try await elsewhere.login("carol", "user-password-123")
            #expect(try await elsewhere.get("/").status == .ok)
            let intruder = ResponseTests.attacker(h, "127.0.0.60")
            for _ in 0..<3 { #expect(try await intruder.login("carol", "wrong-password-0").status == .unauthorized) }
            #expect(try await intruder.login("carol", "user-password-123").status == .seeOther)
            var lock: ResponseStore.Action?
            for _ in 0..<200 where lock == nil {
                lock = try await ResponseStore(database: h.app.db).activeLock(user: "carol")
                if lock == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            let action = try #require(lock)
            #expect(action.rule == "D-06" && action.target == "user:carol")
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await intruder.get("/").status == .seeOther, "the intruder's session ended")
            #expect(try await elsewhere.get("/").status == .seeOther, "every session of the account ended")
            #expect(try await ResponseTests.attacker(h, "127.0.0.62").login("carol", "user-password-123").status == .unauthorized)
            let admin = try await h.loggedIn(as: .admin)
            #expect(try await admin.get("/response").body.contains("user:carol"))
            // The Users page says why carol cannot log in, and its Unlock lifts the response's lock.
            let users = try await admin.get("/admin/users")
            #expect(users.body.contains("locked by response until") && users.body.contains("policy of D-06"))
            let carolID = try #require(try await h.app.secmon.users(on: h.app.db).find("carol")?.requireID().uuidString.lowercased())
            #expect(try await admin.postForm("/admin/users/\(carolID)/unlock", [:]).status == .ok)
            #expect(try await ResponseStore(database: h.app.db).activeLock(user: "carol") == nil)
            #expect(try await ResponseTests.attacker(h, "127.0.0.62").login("carol", "user-password-123").status == .seeOther)
        }
    }

    @Test("manual actions: edit a duration, lock and unlock from the page, and refusals that write nothing")
    func manualActionsAndRefusals() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            try await h.createUser("dave", role: .viewer)
            let analyst = try await h.loggedIn(as: .analyst)
            let dave = ResponseTests.attacker(h, "127.0.0.70")
            _ = try await dave.login("dave", "user-password-123")
            let locked = try await analyst.postForm("/response/act", ["kind": "lock", "target": "dave", "minutes": "30", "reason": "phished"])
            #expect(locked.status == .ok && locked.body.contains("Locked user:dave"))
            #expect(try await dave.get("/").status == .seeOther)
            let store = ResponseStore(database: h.app.db)
            let lock = try #require(try await store.activeLock(user: "dave"))
            let edited = try await analyst.postForm("/response/\(lock.id)/edit", ["minutes": "120"])
            #expect(edited.status == .ok && edited.body.contains("Changed the account lock of user:dave"))
            let after = try #require(try await store.activeLock(user: "dave"))
            #expect(after.expires.map { ($0.microseconds - Timestamp.now().microseconds) / 60_000_000 } == 119)
            #expect(try await Self.audit(h, "response.edit-lock").count == 1)
            let cases: [([String: String], HTTPResponseStatus, String)] = [
                (["kind": "lock", "target": "nobody", "minutes": "30", "reason": "x"], .notFound, "no user"),
                (["kind": "lock", "target": "dave", "minutes": "30", "reason": "x"], .conflict, "already has"),
                (["kind": "ratelimit", "target": "user:dave", "minutes": "30", "reason": "x"], .badRequest, "not to a user"),
                (["kind": "ratelimit", "target": "192.0.2.1", "minutes": "30", "rate": "0", "reason": "x"], .badRequest, "requests a minute"),
                (["kind": "watch", "target": "user:bad name", "minutes": "30", "reason": "x"], .badRequest, "not a user name"),
                (["kind": "block", "target": "192.0.2.1", "minutes": "0", "reason": "x"], .badRequest, "1 minute to 366 days"),
                (["kind": "explode", "target": "192.0.2.1", "minutes": "10", "reason": "x"], .badRequest, "choose"),
            ]
            let before = try await store.recent().count
            for (form, status, words) in cases {
                let response = try await analyst.postForm("/response/act", form)
                #expect(response.status == status && response.body.contains(words), "\(form): \(response.status) \(response.body.prefix(200))")
            }
            #expect(try await store.recent().count == before)
            // An expired action cannot be undone.
            let past = Timestamp(microseconds: Timestamp.now().microseconds - 20 * 60_000_000)
            let old = try await ResponseStore(database: h.app.db, clock: { past }).apply(.watch, target: "192.0.2.99", minutes: 10, reason: "old",
                                                                                           by: .user("test", ip: nil))
            let undo = try await analyst.postForm("/response/\(old.id)/undo", [:])
            #expect(undo.status == .conflict && undo.body.contains("already expired"))
        }
    }

    @Test("policies: admins edit them with a version check; bad and conflicting policies are refused by field", arguments: TestDatabase.all)
    func policies(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let page = try await admin.get("/response/policies")
            #expect(page.status == .ok && page.body.contains("id=\"policy-D-01\"") && page.body.contains("block for 10 min, ×4 per repeat up to 10080 min"))
            let stored = try #require(try await ResponsePolicyStore(database: h.app.db as! any SQLDatabase).find("D-01"))
            let base = ["rule": "D-01", "action_block": "on", "minutes": "15", "escalation": "2", "max_minutes": "600", "rate": "60", "enabled": "on",
                        "version": "\(stored.version)"]
            let saved = try await admin.postForm("/response/policies", base)
            #expect(saved.status == .ok && saved.body.contains("block for 15 min, ×2 per repeat up to 600 min"))
            let stale = try await admin.postForm("/response/policies", base)
            #expect(stale.status == .conflict && stale.body.contains("version"))
            let version = "\(stored.version + 1)"
            let bad: [([String: String], HTTPResponseStatus, String)] = [
                (["action_ratelimit": "on"], .conflict, "block and rate limit conflict"),
                (["minutes": "0"], .badRequest, "minutes:"),
                (["max_minutes": "5"], .conflict, "max_minutes:"),
                (["escalation": "50"], .badRequest, "escalation:"),
                (["rule": "NO-SUCH-RULE"], .badRequest, "not a loaded rule"),
            ]
            for (change, status, words) in bad {
                var form = base.merging(change) { _, new in new }
                form["version"] = version
                let response = try await admin.postForm("/response/policies", form)
                #expect(response.status == status && response.body.contains(words), "\(change): \(response.status)")
            }
            // A new policy for a rule without one: D-05 watches, in dry run.
            let added = try await admin.postForm("/response/policies", ["rule": "D-05", "action_watch": "on", "minutes": "60", "escalation": "1",
                                                                         "max_minutes": "60", "rate": "60", "dry_run": "on", "enabled": "on", "version": "0"])
            #expect(added.status == .ok && added.body.contains("watch for 60 min (dry run)"))
            #expect(try await Self.audit(h, "response-policy.update").count == 2)
            // Analysts read the policies and cannot change them.
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.get("/response/policies").status == .ok)
            #expect(try await analyst.postForm("/response/policies", base).status == .forbidden)
        }
    }
}
