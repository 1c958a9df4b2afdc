import Foundation
import Testing

/// `secmon analyze` and `secmon rules` as used from a shell or a script.
@Suite("Command line: analyze and rules", .timeLimit(.minutes(10)))
struct AnalyzeCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let seedLog = repository.appendingPathComponent("Tests/LogFormatsTests/Fixtures/seed-app.log").path

    static func run(_ arguments: [String], input: String? = nil) throws -> CommandLineTests.Result {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.executable.path), "build secmon first (scripts/test.sh does)")
        return try CommandLineTests.run(arguments, in: repository, input: input)
    }

    @Test("analyze prints a table and a summary; the bundled pack is found from the checkout")
    func table() throws {
        let result = try Self.run(["analyze", Self.seedLog])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("LEVEL"))
        #expect(result.output.contains("D-03"))
        #expect(result.output.contains("seed-app.log:25,29"))
        #expect(result.output.contains("46 lines, 46 events, 0 rejected"))
        #expect(result.output.contains("alerts: 4 (medium 3, low 1)"))
        #expect(result.output.contains("events/s"))
    }

    @Test("--output json is one document; ndjson one alert per line with the summary on stderr")
    func machineOutput() throws {
        let json = try Self.run(["analyze", "--output", "json", Self.seedLog])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let alerts = try #require(document["alerts"] as? [[String: Any]])
        #expect(alerts.count == 4)
        #expect((alerts.first?["rule"] as? [String: Any])?["label"] as? String == "D-04")
        let summary = try #require(document["summary"] as? [String: Any])
        #expect(summary["events"] as? Int == 46)
        let nd = try Self.run(["analyze", "--output", "ndjson", Self.seedLog])
        let lines = nd.output.split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil) }
        #expect(nd.error.contains("alerts: 4"))
    }

    @Test("--fail-on sets the exit status for scripts")
    func failOn() throws {
        #expect(try Self.run(["analyze", "--fail-on", "medium", Self.seedLog]).status == 1)
        #expect(try Self.run(["analyze", "--fail-on", "high", Self.seedLog]).status == 0)
        let bad = try Self.run(["analyze", "--fail-on", "severe", Self.seedLog])
        #expect(bad.status == 64)
        #expect(bad.error.contains("--fail-on 'severe' is not one of"))
    }

    @Test("standard input, --format and --since work; an unreadable input is reported and the rest analysed (status 2)")
    func inputs() throws {
        let text = try String(contentsOfFile: Self.seedLog, encoding: .utf8)
        let stdin = try Self.run(["analyze", "--format", "activity", "--since", "2026-02-24T05:35:00", "-"], input: text)
        #expect(stdin.status == 0)
        #expect(stdin.output.contains("input stdin: activity format"))
        #expect(stdin.output.contains("outside --since/--until"))
        let missing = try Self.run(["analyze", "/nonexistent/app.log", Self.seedLog])
        #expect(missing.status == 2)
        #expect(missing.error.contains("cannot open /nonexistent/app.log"))
        #expect(missing.output.contains("46 lines, 46 events"))
    }

    @Test("rules validate reports file:line errors and exits 1; the bundled pack validates")
    func validate() throws {
        let good = try Self.run(["rules", "validate"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("0 errors"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "title: t\nid: BAD-1\ndetection:\n  sel:\n    field|frobnicate: x\n  condition: sel\nlevel: high\n"
            .write(to: dir.appendingPathComponent("bad.yml"), atomically: true, encoding: .utf8)
        let bad = try Self.run(["rules", "validate", dir.path])
        #expect(bad.status == 1)
        #expect(bad.output.contains("bad.yml:5: error: [BAD-1] search 'sel': unknown modifier 'frobnicate'"))
        // Broken or missing rules: 2, never 1 (which --fail-on uses for "an alert fired").
        let analyze = try Self.run(["analyze", "--rules", dir.path, "--fail-on", "low", Self.seedLog])
        #expect(analyze.status == 2)
        #expect(analyze.error.contains("1 error(s) in the rules"))
        let missing = try Self.run(["analyze", "--rules", dir.path + "/nowhere", Self.seedLog])
        #expect(missing.status == 2)
    }

    @Test("rules list and rules test run over the bundled pack")
    func listAndTest() throws {
        let list = try Self.run(["rules", "list"])
        #expect(list.status == 0)
        #expect(list.output.contains("D-01"))
        #expect(list.output.contains("event_count(secmon_login_failure) by ip_address within 5m gt 3"))
        let test = try Self.run(["rules", "test"])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("0 failed"))
    }

    @Test("--placeholders gives H-02 its indicator list in analyze, rules validate and rules list; a bad file is named")
    func placeholders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-placeholders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("host.log").path
        try """
            {"timestamp": "2026-11-20T10:00:00.000000", "category": "network_connection", "Image": "/tmp/.x/kworker", "ProcessId": 4242, "User": "www-data", "Protocol": "tcp", "Initiated": "true", "SourceIp": "10.0.0.5", "SourcePort": 50000, "DestinationIp": "198.51.100.9", "DestinationPort": 4444, "DestinationIsIpv6": "false", "Computer": "web1"}

            """.write(toFile: log, atomically: true, encoding: .utf8)
        let lists = dir.appendingPathComponent("indicators.yml").path
        try "indicator_ips: [203.0.113.66, 198.51.100.0/24]\n".write(toFile: lists, atomically: true, encoding: .utf8)

        let without = try Self.run(["analyze", "--format", "host", log])
        #expect(without.status == 0, "\(without.error)")
        #expect(!without.output.contains("H-02"))
        let with = try Self.run(["analyze", "--format", "host", "--placeholders", lists, log])
        #expect(with.status == 0, "\(with.error)")
        #expect(with.output.contains("H-02"), "\(with.output)")

        let validate = try Self.run(["rules", "validate", "--placeholders", lists])
        #expect(validate.output.contains("placeholders: %indicator_ips% (H-02): 2 entries"), "\(validate.output)")
        let bare = try Self.run(["rules", "validate"])
        #expect(bare.output.contains("%indicator_ips% (H-02): no list given, matches nothing"))

        let broken = dir.appendingPathComponent("broken.yml").path
        try "- 203.0.113.66\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let bad = try Self.run(["analyze", "--placeholders", broken, log])
        #expect(bad.status == 2)
        #expect(bad.error.contains("--placeholders \(broken): line 1: expected a mapping"), "\(bad.error)")
    }
}
