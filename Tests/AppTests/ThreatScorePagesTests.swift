@testable import App
import FileInspection
import Incidents
import Foundation
import SecurityModel
import SQLKit
import Testing
import ThreatScore

/// The threat score in the server: computed from what SecMon stored (a file integrity change, a
/// host alert; a web alert does not count), kept over time, and shown with every contribution.
@Suite("Threat score pages", .timeLimit(.minutes(5)))
struct ThreatScorePagesTests {
    @Test("evidence in the database makes the score, point by point; the page and the host panel show it", arguments: TestDatabase.all)
    func score(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let sql = h.app.db as! any SQLDatabase
            let service = h.app.secmon.threatScore
            #expect(try await service.computeAndStore().total == 0)
            // An open change to /etc/passwd: 30 file integrity points, 0.2 × 30 = 6.
            let old = FileState(path: "/etc/passwd", kind: .file, sha256: "aa", size: 10, mode: 0o644, uid: 0, gid: 0, mtimeNanos: 1, inode: 5)
            var new = old
            new.sha256 = "bb"
            _ = try await FileIntegrityStore(database: sql).record([FileChange(path: "/etc/passwd", kind: .modified, attributes: ["sha256"], old: old, new: new)], on: h.app.db)
            // A critical H-06 alert: 60 process points, 0.3 × 60 = 18; a D-01 alert counts for nothing here.
            let now = Timestamp.now()
            var shell: SecurityAlert?
            for (rule, level) in [("H-06", Severity.critical), ("D-01", .high)] {
                let alert = SecurityAlert(id: EventID.make(at: now), rule: rule, title: rule == "H-06" ? "Reverse shell" : "Brute force", level: level,
                                          group: [], entities: [], firstTime: now, lastTime: now, eventCount: 1, evidence: [], status: .open, node: "test", playbook: nil)
                _ = try await AlertStore(database: sql).save(alert, rowID: nil)
                if rule == "H-06" { shell = alert }
            }
            let score = try await service.computeAndStore()
            // 6 + 18 = 24 weighted; the critical H-06 alert holds the score at 75.
            #expect(score.weighted == 24 && score.total == 75 && score.level == "critical", "\(score)")
            #expect(score.floor?.evidence == "H-06 Reverse shell (critical)")
            let file = try #require(score.factors.first { $0.factor == .fileIntegrity })
            #expect(file.contributions.map(\.evidence) == ["modified /etc/passwd (sha256), a critical file"])
            let process = try #require(score.factors.first { $0.factor == .process })
            #expect(process.contributions.first?.evidence == "H-06 Reverse shell (critical)" && process.contributions.first?.alertID != nil)
            #expect(try await HostScoreStore(database: sql).history(since: Timestamp(microseconds: 0)).map(\.total) == [0, 75])

            // Once its incident is resolved, the alert no longer counts.
            guard case .created(let incident) = try await IncidentStore(database: h.app.db).ingest(try #require(shell), previousCount: nil) else {
                Issue.record("no incident for the H-06 alert"); return
            }
            let open = try await service.computeAndStore(at: Timestamp(microseconds: now.microseconds + 1))
            #expect(open.total == 75)
            try await sql.raw("UPDATE incidents SET status = 'resolved' WHERE id = \(bind: incident)").run()
            let handled = try await service.computeAndStore(at: Timestamp(microseconds: now.microseconds + 2))
            #expect(handled.total == 6 && handled.floor == nil)
            try await sql.raw("UPDATE incidents SET status = 'investigating' WHERE id = \(bind: incident)").run()
            #expect(try await service.computeAndStore().total == 75)
            #expect(try await HostScoreStore(database: sql).latest()?.score.total == 75)

            let viewer = try await h.loggedIn(as: .viewer)
            let page = try await viewer.get("/host/score")
            #expect(page.status == .ok && page.body.contains("75 · critical") && page.body.contains("Held at 75 by the alert H-06 Reverse shell (critical): the weighted factors alone make 24.") && page.body.contains("H-06 Reverse shell (critical)"))
            #expect(page.body.contains("modified /etc/passwd (sha256), a critical file") && page.body.contains("<polyline"))
            #expect(!page.body.contains("Compute now"))
            let panel = try await viewer.get("/host").body
            #expect(panel.contains("id=\"host-score\"") && panel.contains("75 · critical") && panel.contains("Threat score over the last 24 hours"))
            let analyst = try await h.loggedIn(as: .analyst)
            let computed = try await analyst.postForm("/host/score/compute", [:])
            #expect(computed.status == .ok && computed.body.contains("Computed now."))
            #expect(try await viewer.postForm("/host/score/compute", [:]).status == .forbidden)
            #expect(!page.body.contains("id=\"score-weights\""))

            // Weights from the console: checked, audited, and used at once.
            let admin = try await h.loggedIn(as: .admin)
            let bad = try await admin.postForm("/host/score/weights", ["system": "50", "process": "50", "network": "50", "file_integrity": "0"])
            #expect(bad.status == .badRequest && bad.body.contains("add up to 150"))
            let notNumber = try await admin.postForm("/host/score/weights", ["system": "a lot", "process": "30", "network": "25", "file_integrity": "20"])
            #expect(notNumber.status == .badRequest && notNumber.body.contains("system"))
            let saved = try await admin.postForm("/host/score/weights", ["system": "0", "process": "0", "network": "0", "file_integrity": "100"])
            #expect(saved.status == .ok && saved.body.contains("Weights saved") && saved.body.contains("set by admin"))
            // File integrity alone: 30 points × 1.0 = 30; the H-06 floor of 75 still holds.
            let reweighted = try await service.computeAndStore()
            #expect(reweighted.weighted == 30 && reweighted.total == 75)
            let audit = try await sql.raw("SELECT after_value FROM audit_log WHERE action = 'threat.weights'").all()
            #expect(audit.count == 1)
        }
    }
}
