import EventPipeline
import Foundation
import SecurityModel
import Testing

/// `secmon analyze` gives the same alerts whatever the order of its input's lines and files: the
/// project's labelled 60,000-line log, shuffled whole and in blocks, split into files given newest
/// first, sorted in memory and spilled to disk at a small memory limit. Standard input, which
/// cannot be read twice, keeps the lateness window and says so.
@Suite("Analyze: any order", .timeLimit(.minutes(5)))
struct UnorderedAnalysisTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AnalysisTests/Fixtures/gen60k.log.gz").path

    static func lines() throws -> [String] {
        var out: [String] = []
        let reader = try LineReader(path: fixture, maxLineBytes: 1 << 20)
        try reader.forEach { item in
            if case .line(let line) = item { out.append(String(decoding: line, as: UTF8.self)) }
        }
        return out
    }

    /// The alerts of a JSON report, as comparable text (rule, group, first and last time, count), and the ordering note.
    static func alerts(_ json: String) throws -> (alerts: [String], ordering: String?) {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let summary = document["summary"] as? [String: Any]
        let alerts = (document["alerts"] as? [[String: Any]] ?? []).map { alert -> String in
            let rule = alert["rule"] as? [String: Any]
            let group = (alert["group"] as? [String: Any] ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
            return "\(rule?["id"] ?? rule?["title"] ?? "?") \(group) \(alert["first_time"] ?? "") \(alert["last_time"] ?? "") \(alert["event_count"] ?? "")"
        }.sorted()
        return (alerts, summary?["ordering"] as? String)
    }

    static func analyze(_ files: [String], in directory: URL, extra: [String] = [], input: String? = nil) throws -> (alerts: [String], ordering: String?) {
        let result = try CommandLineTests.run(["analyze"] + files + ["--output", "json", "--quiet"] + extra, in: directory, input: input)
        #expect(result.status == 0, "\(result.error)")
        return try alerts(result.output)
    }

    @Test("shuffled whole or in blocks, rotated files newest first, spilled at 1 MiB: the alerts of the ordered log")
    func anyOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-unordered-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = try Self.lines()
        #expect(lines.count == 60_000)
        func write(_ name: String, _ lines: some Sequence<String>) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let ordered = try Self.analyze([try write("ordered.log", lines)], in: dir)
        #expect(ordered.ordering == nil)
        #expect(ordered.alerts.count > 20, "the labelled log raises alerts: \(ordered.alerts.count)")

        var generator = SeededGenerator(seed: 2026)
        for round in 0..<4 {
            let shuffled = lines.shuffled(using: &generator)
            let result = try Self.analyze([try write("shuffled-\(round).log", shuffled)], in: dir)
            #expect(result.alerts == ordered.alerts, "full shuffle \(round)")
            #expect(result.ordering?.contains("60000 lines sorted") == true)
        }
        for round in 0..<3 {
            let blocks = stride(from: 0, to: lines.count, by: 5_000).map { Array(lines[$0..<min($0 + 5_000, lines.count)]) }.shuffled(using: &generator)
            let result = try Self.analyze([try write("blocks-\(round).log", blocks.joined())], in: dir)
            #expect(result.alerts == ordered.alerts, "block shuffle \(round)")
        }
        // Rotated files given newest first.
        let parts = [Array(lines[40_000...]), Array(lines[20_000..<40_000]), Array(lines[..<20_000])]
        let rotated = try Self.analyze(try parts.enumerated().map { try write("part-\($0.offset).log", $0.element) }, in: dir)
        #expect(rotated.alerts == ordered.alerts)
        // Spilled to disk at a small memory limit, in a spill directory of our own (empty afterwards).
        let spill = dir.appendingPathComponent("spill")
        try FileManager.default.createDirectory(at: spill, withIntermediateDirectories: true)
        let spilled = try Self.analyze([try write("shuffled-spill.log", lines.shuffled(using: &generator))], in: dir,
                                       extra: ["--sort-memory", "1", "--spill-dir", spill.path])
        #expect(spilled.alerts == ordered.alerts)
        #expect(spilled.ordering?.contains("runs") == true, "\(spilled.ordering ?? "-")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spill.path).isEmpty)

        // A line too long to keep, and one that is not a log line, in a shuffled file: rejected with
        // their line numbers, as in the ordered file; the alerts are the same.
        var withBad = lines.shuffled(using: &generator)
        withBad.insert(String(repeating: "x", count: 1_100_000), at: 30_000)
        withBad.insert("not a log line", at: 40_000)
        let badPath = try write("shuffled-bad.log", withBad)
        let badResult = try CommandLineTests.run(["analyze", badPath, "--output", "json", "--quiet"], in: dir)
        #expect(try Self.alerts(badResult.output).alerts == ordered.alerts)
        let badSummary = try #require(try JSONSerialization.jsonObject(with: Data(badResult.output.utf8)) as? [String: Any])["summary"] as? [String: Any]
        let rejections = (badSummary?["rejections"] as? [[String: Any]] ?? []).map { "\($0["line"] ?? "") \($0["reason"] ?? "")" }
        #expect(rejections.contains { $0.hasPrefix("30001 line of 1100000 bytes") }, "\(rejections)")
        #expect(rejections.contains { $0.hasPrefix("40001 ") }, "\(rejections)")

        // Standard input cannot be read again: the lateness window applies, and the summary says so.
        let piped = try Self.analyze(["-"], in: dir, input: lines.shuffled(using: &generator).prefix(5_000).joined(separator: "\n") + "\n")
        #expect(piped.ordering?.contains("standard input is read once") == true)
        // A spill directory that cannot be used: status 2, and what to do.
        let bad = try CommandLineTests.run(["analyze", dir.appendingPathComponent("shuffled-0.log").path, "--spill-dir", "/nonexistent-spill", "--quiet"], in: dir)
        #expect(bad.status == 2 && bad.error.contains("--spill-dir"))
    }
}
