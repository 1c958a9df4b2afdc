import Testing
@testable import ThreatScore

/// The score's arithmetic on fixture hosts: every point is accounted for, factor by factor.
@Suite("Threat score")
struct ThreatScoreTests {
    @Test("a quiet host scores 0, with nothing to explain")
    func quiet() {
        let score = ThreatScorer.score(ThreatEvidence(cpuPercent: 12, memoryPercent: 40, fullestDisk: ("/", 51)))
        #expect(score.total == 0 && score.level == "low")
        #expect(score.factors.map(\.factor) == ThreatFactor.allCases)
        #expect(score.factors.allSatisfy { $0.contributions.isEmpty && $0.weighted == 0 })
    }

    @Test("a compromised host: each factor's points are its contributions, the total their weighted sum")
    func compromised() {
        let evidence = ThreatEvidence(
            cpuPercent: 97.2, memoryPercent: 60, fullestDisk: ("/var", 96),
            suspiciousProcesses: [.init(pid: 4242, name: "kworker", reason: "runs from /tmp/.x")],
            openFileChanges: [.init(path: "/etc/passwd", kind: "modified", attributes: ["sha256", "size"]), .init(path: "/usr/bin/ls", kind: "modified")],
            recentScans: [.init(name: "dropper.elf", verdict: "malicious"), .init(name: "notes.txt", verdict: "clean")],
            alerts: [.init(id: "a1", rule: "H-06", title: "Reverse shell", level: "critical"),
                     .init(id: "a2", rule: "H-07", title: "Crypto miner", level: "high"),
                     .init(id: "a3", rule: "H-02", title: "Connection to an indicator address", level: "high"),
                     .init(id: "a4", rule: "D-01", title: "Brute force", level: "high"),  // the web app's: not the host's
                     .init(id: "a5", rule: "H-10", title: "CPU saturation", level: "medium")])
        let score = ThreatScorer.score(evidence)
        let byFactor = Dictionary(uniqueKeysWithValues: score.factors.map { ($0.factor, $0) })
        // System: CPU 40 + disk 20 + H-10 medium 25 = 85.
        #expect(byFactor[.system]?.points == 85 && byFactor[.system]?.capped == 85)
        // Processes: suspicious 15 + H-06 critical 60 + H-07 high 40 = 115, capped at 100.
        #expect(byFactor[.process]?.points == 115 && byFactor[.process]?.capped == 100)
        // Network: H-02 high 40.
        #expect(byFactor[.network]?.points == 40)
        // File integrity: /etc/passwd (critical) 30 + /usr/bin/ls 10 + malicious scan 50 = 90.
        #expect(byFactor[.fileIntegrity]?.points == 90)
        // 0.25 × 85 + 0.30 × 100 + 0.25 × 40 + 0.20 × 90 = 21.25 + 30 + 10 + 18 = 79.25 → 79.3 (one decimal),
        // above the critical alert's floor of 75.
        #expect(score.total == 79.3 && score.weighted == 79.3 && score.floor == nil && score.level == "critical")
        // Every point has its evidence; every alert-based one names its alert; D-01 is not counted.
        for factor in score.factors {
            #expect(factor.contributions.reduce(0) { $0 + $1.points } == factor.points)
        }
        let alertIDs = score.factors.flatMap(\.contributions).compactMap(\.alertID)
        #expect(Set(alertIDs) == ["a1", "a2", "a3", "a5"])
        #expect(byFactor[.fileIntegrity]?.contributions.first?.evidence == "scan of dropper.elf: malicious")
        #expect(byFactor[.fileIntegrity]?.contributions.contains { $0.evidence.contains("/etc/passwd (sha256, size), a critical file") } == true)
        // Top contributors, by what they add to the total.
        // H-06: 60 × 0.30 × 100/115 (the process factor is over its cap) = 15.65; H-07 10.43;
        // then CPU (40 × 0.25), H-02 (40 × 0.25) and the scan (50 × 0.20), 10 each, by name.
        let top = score.topContributors(5)
        #expect(top.map(\.contribution.evidence) == ["H-06 Reverse shell (critical)", "H-07 Crypto miner (high)", "CPU at 97.2 % (90 % or more)",
                                                       "H-02 Connection to an indicator address (high)", "scan of dropper.elf: malicious"])
        #expect(abs((top.first?.weighted ?? 0) - 15.652) < 0.001)
        // All contributions together make the total.
        let all = score.topContributors(100).reduce(0) { $0 + $1.weighted }
        #expect(abs(all - 79.25) < 0.001)
    }

    @Test("the most severe host alert holds the score up, and says so")
    func floors() {
        let shell = ThreatEvidence(alerts: [.init(id: "a1", rule: "H-06", title: "Reverse shell", level: "critical"),
                                            .init(id: "a2", rule: "H-03", title: "Rare destination", level: "low"),
                                            .init(id: "a3", rule: "D-01", title: "Brute force", level: "critical")])
        let score = ThreatScorer.score(shell)
        // Weighted: 0.30 × 60 + 0.25 × 10 = 20.5; the H-06 critical alert holds it at 75. D-01 is not the host's.
        #expect(score.weighted == 20.5 && score.total == 75 && score.level == "critical")
        #expect(score.floor == ThreatFloor(value: 75, evidence: "H-06 Reverse shell (critical)", alertID: "a1"))
        let medium = ThreatScorer.score(ThreatEvidence(alerts: [.init(id: "m", rule: "H-10", title: "CPU saturation", level: "medium")]))
        #expect(medium.weighted == 6.3 && medium.total == 25 && medium.level == "elevated")
        #expect(ThreatScorer.score(ThreatEvidence(alerts: [.init(id: "l", rule: "H-03", title: "Rare", level: "low")])).floor == nil)
    }

    @Test("weights are configurable and checked; a setuid bit gained is critical")
    func weights() {
        let evidence = ThreatEvidence(openFileChanges: [.init(path: "/usr/local/bin/helper", kind: "permissions", attributes: ["mode"], gainedSetuid: true)])
        let fileOnly = ThreatWeights(system: 0, process: 0, network: 0, fileIntegrity: 1)
        #expect(fileOnly.problem == nil)
        #expect(ThreatScorer.score(evidence, weights: fileOnly).total == 30)
        #expect(ThreatScorer.score(evidence).total == 6)
        #expect(ThreatWeights(system: 0.5, process: 0.5, network: 0.5, fileIntegrity: 0).problem?.contains("150") == true)
        #expect(ThreatWeights(system: -0.1, process: 0.5, network: 0.5, fileIntegrity: 0.1).problem != nil)
        #expect(ThreatWeights.standard.problem == nil)
    }

    @Test("levels and rule factors")
    func levels() {
        #expect(ThreatFactor.forRule("h-10") == .system && ThreatFactor.forRule("H-03") == .network && ThreatFactor.forRule("H-09") == .process)
        #expect(ThreatFactor.forRule("F-05") == .fileIntegrity && ThreatFactor.forRule("S-01") == .fileIntegrity && ThreatFactor.forRule("D-07") == nil)
        for (total, level) in [(0.0, "low"), (24.9, "low"), (25, "elevated"), (50, "high"), (74.9, "high"), (75, "critical"), (100, "critical")] {
            #expect(HostThreatScore(total: total, factors: []).level == level)
        }
    }
}
