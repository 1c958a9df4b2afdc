import ActiveResponse
import Incidents
import SecurityModel
import Testing

@Suite("Response policies and targets")
struct ResponsePolicyTests {
    @Test("escalation multiplies per earlier block, stops at the maximum, and never overflows")
    func escalation() {
        let policy = ResponsePolicy(rule: "D-01", actions: [.block], minutes: 10, escalation: 4, maxMinutes: 7 * 24 * 60)
        #expect(policy.duration(previous: 0) == 10)
        #expect(policy.duration(previous: 1) == 40)
        #expect(policy.duration(previous: 2) == 160)
        #expect(policy.duration(previous: 4) == 2560)
        #expect(policy.duration(previous: 5) == 10080)
        #expect(policy.duration(previous: Int.max) == 10080)
        let flat = ResponsePolicy(rule: "D-02", actions: [.rateLimit], minutes: 60)
        #expect(flat.duration(previous: 100) == 60)
        let huge = ResponsePolicy(rule: "X", actions: [.block], minutes: 527_040, escalation: 10, maxMinutes: 527_040)
        #expect(huge.duration(previous: 50) == 527_040)
    }

    @Test("bad policies are refused, naming the field")
    func validation() throws {
        func field(_ policy: ResponsePolicy) -> String? {
            do { try policy.validate(); return nil } catch let refusal as IncidentRefusal { return refusal.field } catch { return "?" }
        }
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.block, .rateLimit], minutes: 10)) == "actions")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.allow], minutes: 10)) == "actions")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.block, .block], minutes: 10)) == "actions")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [], minutes: 10)) == "actions")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [], minutes: 10, enabled: false)) == nil)
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.block], minutes: 0)) == "minutes")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.block], minutes: 600_000)) == "minutes")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.block], minutes: 60, maxMinutes: 30)) == "max_minutes")
        #expect(field(ResponsePolicy(rule: "D-01", actions: [.block], minutes: 60, escalation: 0)) == "escalation")
        #expect(field(ResponsePolicy(rule: "D-02", actions: [.rateLimit], minutes: 60, ratePerMinute: 0)) == "rate")
        for policy in BundledResponsePolicies.all { try policy.validate() }
    }

    @Test("host actions: a policy may only terminate or quarantine, each once; names parse; the summary says them first")
    func hostActions() throws {
        func field(_ policy: ResponsePolicy) -> String? {
            do { try policy.validate(); return nil } catch let refusal as IncidentRefusal { return refusal.field } catch { return "?" }
        }
        let hostOnly = ResponsePolicy(rule: "H-06", actions: [], hostActions: [.terminate], minutes: 60)
        #expect(field(hostOnly) == nil)
        #expect(hostOnly.summary == "terminate the process")
        #expect(field(ResponsePolicy(rule: "H-06", actions: [], hostActions: [.terminate, .terminate], minutes: 60)) == "actions")
        let both = ResponsePolicy(rule: "H-02", actions: [.block], hostActions: [.terminate, .quarantine], minutes: 10, dryRun: true)
        #expect(field(both) == nil)
        #expect(both.summary == "terminate the process, quarantine the file; block for 10 min (dry run)")
        #expect(both.actionNames == ["terminate", "quarantine", "block"])
        let parsed = try ResponsePolicy.actions(named: ["Rate-Limit", "quarantine", "watch", "TERMINATE"])
        #expect(parsed.network == [.rateLimit, .watch] && parsed.host == [.quarantine, .terminate])
        #expect(throws: IncidentRefusal.self) { try ResponsePolicy.actions(named: ["kill"]) }
        // No bundled policy acts on the host: an administrator turns that on per rule.
        #expect(BundledResponsePolicies.all.allSatisfy { $0.hostActions.isEmpty })
    }

    @Test("the bundled policies block for D-01, rate-limit and watch for D-02, lock for D-06, and nothing else")
    func bundled() {
        let byRule = Dictionary(uniqueKeysWithValues: BundledResponsePolicies.all.map { ($0.rule, $0.actions) })
        #expect(byRule == ["D-01": [.block], "D-02": [.rateLimit, .watch], "D-06": [.lock]])
    }

    @Test("targets parse per kind and refuse what the kind does not take")
    func targets() throws {
        #expect(try ResponseTarget(parsing: "192.0.2.7", for: .block).description == "192.0.2.7")
        #expect(try ResponseTarget(parsing: " 198.51.100.0/24 ", for: .rateLimit).description == "198.51.100.0/24")
        #expect(try ResponseTarget(parsing: "alice", for: .lock) == .user("alice"))
        #expect(try ResponseTarget(parsing: "user:Alice", for: .watch) == .user("alice"))
        #expect(try ResponseTarget(parsing: "2001:db8::1", for: .allow).network != nil)
        for (text, kind) in [("user:alice", ResponseKind.block), ("not an address", .block), ("", .watch), ("bad name!", .lock),
                             (String(repeating: "1", count: 200), .allow)] {
            #expect(throws: IncidentRefusal.self) { try ResponseTarget(parsing: text, for: kind) }
        }
        let network = try ResponseTarget(parsing: "10.0.0.0/8", for: .allow)
        #expect(network.covers(try ResponseTarget(parsing: "10.1.2.3", for: .block)))
        #expect(!network.covers(try ResponseTarget(parsing: "11.1.2.3", for: .block)))
        #expect(try ResponseTarget(parsing: "10.1.2.3", for: .block).overlaps(network))
        #expect(ResponseKind(parsing: "rate-limit") == .rateLimit)
    }
}
