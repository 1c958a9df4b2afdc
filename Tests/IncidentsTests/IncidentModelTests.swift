import Incidents
import SecurityModel
import Testing

@Suite("Incident model")
struct IncidentModelTests {
    @Test("transitions follow the response procedure; closed is final")
    func transitions() {
        #expect(IncidentStatus.new.canMove(to: .acknowledged))
        #expect(IncidentStatus.acknowledged.canMove(to: .investigating))
        #expect(IncidentStatus.investigating.canMove(to: .contained))
        #expect(IncidentStatus.contained.canMove(to: .resolved))
        #expect(IncidentStatus.resolved.canMove(to: .closed))
        #expect(IncidentStatus.resolved.canMove(to: .investigating))
        #expect(!IncidentStatus.acknowledged.canMove(to: .new))
        #expect(!IncidentStatus.investigating.canMove(to: .acknowledged))
        #expect(!IncidentStatus.new.canMove(to: .new))
        #expect(IncidentStatus.closed.next.isEmpty)
        // Every status can be left except closed, and every status but new can be reached.
        for status in IncidentStatus.allCases where status != .closed { #expect(status.canMove(to: .closed)) }
        let reachable = Set(IncidentStatus.allCases.flatMap(\.next))
        #expect(reachable == Set(IncidentStatus.allCases).subtracting([.new]))
        #expect(IncidentStatus.openStatuses == [.new, .acknowledged, .investigating, .contained])
    }

    @Test("severity from the rule's level")
    func severity() {
        #expect(IncidentSeverity(level: .informational) == .low)
        #expect(IncidentSeverity(level: .low) == .low)
        #expect(IncidentSeverity(level: .medium) == .medium)
        #expect(IncidentSeverity(level: .high) == .high)
        #expect(IncidentSeverity(level: .critical) == .critical)
        #expect(IncidentSeverity.low < .critical)
    }

    @Test("playbook tasks from text: one a line, 'title :: detail', limits named by line")
    func playbookText() throws {
        let tasks = try Playbook.tasks(fromText: "Block the IP :: at the proxy\n\n  Lock the account  \nNotify :: a :: b\r\n")
        #expect(tasks == [.init("Block the IP", "at the proxy"), .init("Lock the account"), .init("Notify", "a :: b")])
        #expect(Playbook(name: "x", title: "x", description: "", tasks: tasks).tasksText == "Block the IP :: at the proxy\nLock the account\nNotify :: a :: b")
        #expect(throws: IncidentRefusal.self) { try Playbook.tasks(fromText: String(repeating: "a", count: 1025)) }
        do {
            _ = try Playbook.tasks(fromText: "ok\n :: detail only")
            Issue.record("no error")
        } catch {
            #expect(error.field == "tasks" && error.reason.contains("line 2"))
        }
        #expect(throws: IncidentRefusal.self) { try Playbook.tasks(fromText: (0...50).map { "t\($0)" }.joined(separator: "\n")) }
    }

    @Test("bundled playbooks: the design's four scenarios and the pack's families, unique names, tasks")
    func bundled() {
        let names = BundledPlaybooks.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in ["brute-force", "api-flood", "session-cycling", "bot-pattern", "ssh-attack", "web-attack", "password-spraying"] {
            #expect(names.contains(name))
        }
        #expect(BundledPlaybooks.all.allSatisfy { !$0.tasks.isEmpty && $0.tasks.count <= Playbook.maxTasks })
        #expect(BundledPlaybooks.bruteForce.tasks.first?.title == "Block the suspicious IP temporarily")
    }

    @Test("MTTA and MTTR overall and by severity; merged incidents left out; open ones by age")
    func metrics() {
        let t0 = Timestamp(microseconds: 1_000_000_000_000_000)
        func at(_ seconds: Int64) -> Timestamp { Timestamp(microseconds: t0.microseconds + seconds * 1_000_000) }
        let samples: [IncidentMetrics.Sample] = [
            .init(severity: .high, status: .closed, created: t0, acknowledged: at(60), resolved: at(600)),
            .init(severity: .high, status: .investigating, created: at(0), acknowledged: at(180), resolved: nil),
            .init(severity: .low, status: .new, created: at(-7200), acknowledged: nil, resolved: nil),
            .init(severity: .medium, status: .new, created: at(-700_000), acknowledged: nil, resolved: nil),
            .init(severity: .high, status: .closed, created: t0, acknowledged: at(1), resolved: at(2), merged: true),
        ]
        let metrics = IncidentMetrics(samples, now: at(100))
        #expect(metrics.overall.acknowledgeSeconds == 120)
        #expect(metrics.overall.resolveSeconds == 600)
        #expect(metrics.bySeverity[.high]?.acknowledged == 2)
        #expect(metrics.bySeverity[.low]?.acknowledgeSeconds == nil)
        #expect(metrics.open == 3)
        #expect(metrics.openByAge == [1, 1, 0, 1])
        #expect(IncidentMetrics.duration(42) == "42 s")
        #expect(IncidentMetrics.duration(210) == "3.5 min")
        #expect(IncidentMetrics.duration(nil) == "-")
    }
}
