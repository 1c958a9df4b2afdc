import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import SecurityModel
import Testing

/// Paths and helpers shared by the analysis tests.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = repository.appendingPathComponent("rules").path
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let seedLog = repository.appendingPathComponent("Tests/LogFormatsTests/Fixtures/seed-app.log").path
    static let generated = fixtures.appendingPathComponent("gen60k.log.gz").path
    static let truth = fixtures.appendingPathComponent("gen60k.truth.json").path

    static func temporary(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-analysis-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }
}

enum Pack {
    /// The bundled rule pack, loaded once.
    static let rules: RuleSet = {
        let read = RuleDirectory.read(Paths.rules)
        let result = RuleLoader.load(read.sources)
        precondition(result.errors.isEmpty && read.diagnostics.isEmpty, "\(result.errors) \(read.diagnostics)")
        return result.ruleSet
    }()
}

/// Runs files through an analyzer the way `secmon analyze` does.
func analyze(_ paths: [String], rules: RuleSet = Pack.rules, chunkSize: Int = 4 << 20, options: Analyzer.Options? = nil) throws -> AnalysisReport {
    var analyzer = Analyzer(rules: rules, options: options ?? .init(referenceTime: Timestamp(iso8601: "2026-11-22T12:00:00Z")!))
    for path in paths {
        analyzer.beginInput(path)
        do {
            let reader = try LineReader(path: path, chunkSize: chunkSize)
            try reader.forEach { item in
                switch item {
                case .line(let line): analyzer.feed(line)
                case .oversized(let length): analyzer.feedOversized(length: length)
                }
            }
        } catch {
            analyzer.failInput("\(error)")
        }
    }
    return analyzer.finish()
}

/// What identifies an alert, for comparing runs.
struct AlertKey: Hashable, CustomStringConvertible {
    let rule: String, group: String, first: Timestamp, last: Timestamp, events: Int, holds: Int
    init(_ alert: Alert) {
        rule = alert.rule.label; group = alert.groupDescription; first = alert.firstTime; last = alert.lastTime
        events = alert.eventCount; holds = alert.holdCount
    }
    var description: String { "\(rule) \(group) \(first)..\(last) \(events)/\(holds)" }
}
