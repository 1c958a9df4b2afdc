import Foundation
import Testing

/// What the README promises about the command line, each checked as a user would see it.
@Suite("README promises: the command line", .timeLimit(.minutes(10)))
struct ReadmePromiseTests {
    static func temporary() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-promise-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func line(_ time: String, _ ip: String, _ action: String) -> String {
        #"{"timestamp": "\#(time)", "ip_address": "\#(ip)", "username": "anonymous", "action": "\#(action)", "taskName": null}"#
    }

    @Test("--since and --until take ISO times with zones (UTC without one)")
    func timeRange() throws {
        // 05:29:39 to 05:31:10 UTC in the seed log; 06:30+01:00 is 05:30 UTC.
        let all = try AnalyzeCommandTests.run(["analyze", AnalyzeCommandTests.seedLog])
        let zoned = try AnalyzeCommandTests.run(["analyze", "--since", "2026-02-24T06:30:00+01:00", "--until", "2026-02-24T05:30:30", AnalyzeCommandTests.seedLog])
        #expect(all.status == 0 && zoned.status == 0)
        // ", 46 events," is the input's line (the throughput line's "…46 events/s" must not count).
        #expect(all.output.contains(", 46 events,"))
        let match = zoned.output.range(of: #"(\d+) outside --since/--until"#, options: .regularExpression)
        #expect(match != nil, "\(zoned.output)")
        #expect(!zoned.output.contains(", 46 events,"))
        let bad = try AnalyzeCommandTests.run(["analyze", "--until", "tomorrow", AnalyzeCommandTests.seedLog])
        #expect(bad.status == 64)
        #expect(bad.error.contains("--until 'tomorrow' is not a time"))
    }

    @Test("--lateness decides which out-of-order events are still correlated")
    func lateness() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("late.log")
        // Four failures from one address; the last arrives 3 seconds behind the newest, after an
        // event later than it was already correlated with a 1-second window.
        let lines = [
            Self.line("2026-02-24T05:00:00.000000", "203.0.113.9", "LOGIN_FAILURE"),
            Self.line("2026-02-24T05:00:04.000000", "203.0.113.9", "LOGIN_FAILURE"),
            Self.line("2026-02-24T05:00:05.000000", "203.0.113.9", "LOGIN_FAILURE"),
            Self.line("2026-02-24T05:00:02.000000", "203.0.113.9", "LOGIN_FAILURE"),
        ]
        try (lines.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
        let tight = try AnalyzeCommandTests.run(["analyze", "--lateness", "1", path.path])
        #expect(tight.output.contains("1 late"), "\(tight.output)")
        #expect(!tight.output.contains("D-01"))
        let loose = try AnalyzeCommandTests.run(["analyze", "--lateness", "5", path.path])
        #expect(loose.output.contains("0 late"))
        #expect(loose.output.contains("D-01"))
    }

    @Test("ndjson streams alerts during long inputs and gives the same alerts as json, each once")
    func ndjsonStreaming() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("long.log")
        // 70,000 lines (past the 65,536-line streaming step): a brute force every 10,000 lines.
        var text = ""
        text.reserveCapacity(70_000 * 130)
        let start = Date(timeIntervalSince1970: 1_771_900_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        for i in 0..<70_000 {
            let time = formatter.string(from: start.addingTimeInterval(Double(i))) + ".000000"
            let attack = i % 10_000 < 5
            text += Self.line(time, attack ? "198.51.100.\(i / 10_000)" : "10.0.\(i % 200).1", attack ? "LOGIN_FAILURE" : "PAGE_VISIT") + "\n"
        }
        try text.write(to: path, atomically: true, encoding: .utf8)
        let json = try AnalyzeCommandTests.run(["analyze", "--output", "json", path.path])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let expected = try #require(document["alerts"] as? [[String: Any]]).compactMap { $0["number"] as? Int }.sorted()
        let nd = try AnalyzeCommandTests.run(["analyze", "--output", "ndjson", path.path])
        let streamed = nd.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["number"] as? Int
        }
        #expect(expected.count >= 7)
        #expect(streamed.sorted() == expected)
        #expect(Set(streamed).count == streamed.count)
    }

    @Test("a failing rule test exits 1 and says which expectation failed")
    func failingRuleTest() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            title: Failure
            id: T-1
            logsource: {product: secmon, service: activity}
            detection:
              selection: {action: LOGIN_FAILURE}
              condition: selection
            level: low
            """.write(to: dir.appendingPathComponent("t1.yml"), atomically: true, encoding: .utf8)
        try """
            tests:
              - name: a page visit is not a failure
                log: |
                  \(Self.line("2026-02-24T05:00:00.000000", "203.0.113.9", "PAGE_VISIT"))
                expect:
                  - {rule: T-1, alerts: 1}
            """.write(to: dir.appendingPathComponent("t1.tests.yml"), atomically: true, encoding: .utf8)
        let result = try AnalyzeCommandTests.run(["rules", "test", dir.path])
        #expect(result.status == 1, "\(result.output)\(result.error)")
        #expect((result.output + result.error).contains("expected 1 alert(s) of T-1, got 0"))
    }

    @Test("an option wins over its environment variable")
    func optionOverEnvironment() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let chosen = dir.appendingPathComponent("chosen").path
        let ignored = dir.appendingPathComponent("ignored").path
        let result = try CommandLineTests.run(["migrate", "--data-dir", chosen], in: dir, env: ["SECMON_DATA_DIR": ignored])
        #expect(result.status == 0, "\(result.error)")
        #expect(FileManager.default.fileExists(atPath: chosen + "/secmon.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: ignored))
    }
}

/// What the README promises about the running server's configuration.
@Suite("README promises: the server", .timeLimit(.minutes(10)))
struct ServerPromiseTests {
    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("--log-flush synced and written: a request is answered only once its line is in the file", arguments: ["synced", "written"])
    func writtenBeforeAnswer(_ mode: String) async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.flushPolicy.mode = .init(rawValue: mode)! }) { h in
            for n in 0..<5 {
                let response = try await h.client().get("/login?n=\(n)")
                #expect(response.status == .ok)
                // No flush: the answer itself promises the line.
                #expect(Self.lines(h.config.logPath).count == n + 1)
            }
        }
    }

    @Test("--log-flush buffered: lines reach the file within the gathering delay")
    func buffered() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.flushPolicy = .init(mode: .buffered, fsyncInterval: 1, maxDelay: 0.05) }) { h in
            _ = try await h.client().get("/login")
            var found = 0
            for _ in 0..<100 where found == 0 {
                found = Self.lines(h.config.logPath).count
                if found == 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(found == 1)
        }
    }
}
