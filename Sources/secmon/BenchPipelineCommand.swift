import App
import ArgumentParser
import Foundation

/// `secmon bench-pipeline`: the pipeline benchmark's driver (see bench/pipeline.sh). Hidden: a
/// tool for developers, not for users.
struct BenchPipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-pipeline",
        abstract: "Replay an activity log through the live pipeline and print what it sustained.",
        shouldDisplay: false
    )

    @Argument(help: "An activity-format log (JSON lines).")
    var log: String

    @ArgumentParser.Option(name: .long, help: "Events offered per second (default: as fast as the pipeline takes them).")
    var rate: Double?

    @ArgumentParser.Option(name: .long, help: "Replay at most this many events.")
    var limit: Int?

    @ArgumentParser.Option(name: .long, help: "Rule directory (default: the bundled pack).")
    var rules: String?

    @ArgumentParser.Option(name: .long, help: "Where alerts are stored: sqlite:PATH or postgres://...")
    var databaseURL: String

    @ArgumentParser.Option(name: .long, help: "The intake's budget in bytes.")
    var intakeBytes: Int = 32 << 20

    func run() async throws {
        let database: SecMonConfig.Database
        if databaseURL.hasPrefix("sqlite:") { database = .sqlite(path: String(databaseURL.dropFirst(7))) } else { database = .postgres(url: databaseURL) }
        let result = try await PipelineBenchmark.run(logPath: log, limit: limit, rate: rate, rulesPath: rules, database: database,
                                                     intakeBytes: intakeBytes, logLevel: .warning)
        let rate = Double(result.events) / max(result.seconds, 1e-9)
        print("events=\(result.events) seconds=\(String(format: "%.3f", result.seconds)) events_per_s=\(Int(rate)) sent=\(result.sent) dropped=\(result.refused) processed=\(result.processed) alerts=\(result.alerts) stored=\(result.stored) sink_dropped=\(result.sinkDropped) sink_failures=\(result.sinkFailures)")
    }
}
