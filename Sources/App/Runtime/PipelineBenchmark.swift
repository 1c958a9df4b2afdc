import DetectionEngine
import EventPipeline
import Foundation
import Logging
import SecurityModel
import ServiceLifecycle
import SQLKit
import Vapor

/// `secmon bench-pipeline`: replays an activity log through the live pipeline (intake, detection
/// stage with the rules, alert bus, the alert store on a real database) and reports what it
/// sustained. For `bench/pipeline.sh`.
public enum PipelineBenchmark {
    /// What one replay measured.
    public struct Result: Sendable {
        /// Events in the replay.
        public var events: Int
        /// From the first event offered until every alert was stored.
        public var seconds: Double
        /// Events the intake accepted, and refused (only when a rate was set).
        public var sent: Int
        public var refused: Int
        /// Events detection processed, alert updates published and stored.
        public var processed: Int
        public var alerts: Int
        public var stored: Int
        /// Updates the alert store dropped or failed to write.
        public var sinkDropped: Int
        public var sinkFailures: Int
    }

    /// Replays `logPath` (activity-format JSON lines; at most `limit` of them) at `rate` events/s
    /// (`nil`: as fast as the pipeline takes them) with the rules at `rulesPath`, storing alerts in
    /// `database`.
    public static func run(logPath: String, limit: Int?, rate: Double?, rulesPath: String?, database: SecMonConfig.Database,
                           intakeBytes: Int, logLevel: Logger.Level) async throws -> Result {
        let events = try readEvents(logPath, limit: limit)
        var config = SecMonConfig()
        config.database = database
        config.rulesPath = rulesPath
        config.intakeQueueBytes = intakeBytes
        let app = try await SecMonServer.makeApplication(logLevel: logLevel)
        do {
            try await configureDatabase(app, config, migrate: true)
            guard let rules = try loadLiveRules(app, config, placeholders: PlaceholderTable()) else { throw StartupError("no rules found for the benchmark; pass --rules") }
            let sink = AlertStoreSink(database: { app.db as? any SQLDatabase })
            let bus = AlertBus(sinks: [sink], logger: app.logger)
            let intake = EventIntake(budgetBytes: intakeBytes)
            let stage = DetectionStage(rules: rules.ruleSet, intake: intake, bus: bus, latenessSeconds: 5, tickSeconds: 3600,
                                       node: "bench", logger: app.logger)
            let replay = ReplaySource(events: events, ratePerSecond: rate)
            let group = ServiceGroup(configuration: .init(services: [bus, stage], logger: app.logger))
            let started = ContinuousClock.now
            async let running: Void = group.run()
            try await replay.run(into: intake)
            await group.triggerGracefulShutdown()
            try await running
            let elapsed = ContinuousClock.now - started
            let sinkStats = bus.statistics.first
            let result = Result(
                events: events.count,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                sent: replay.statistics.sent, refused: intake.statistics.dropped,
                processed: stage.statistics.engine.events, alerts: stage.statistics.engine.alerts,
                stored: sinkStats?.written ?? 0, sinkDropped: sinkStats?.dropped ?? 0, sinkFailures: sinkStats?.failures ?? 0)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// The log's lines as pipeline events (id `L<line>`); lines that are not JSON objects with a
    /// time are skipped.
    static func readEvents(_ path: String, limit: Int?) throws -> [SecurityEvent] {
        var events: [SecurityEvent] = []
        var number = 0
        let reader = try LineReader(path: path)
        try reader.forEach { item in
            guard case .line(let bytes) = item, limit.map({ events.count < $0 }) ?? true else { return }
            number += 1
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
                  let text = object["timestamp"] as? String, let time = Timestamp(iso8601: text) else { return }
            var fields: [SecurityEvent.Field] = []
            for (key, value) in object where key != "timestamp" {
                switch value {
                case let text as String: fields.append(.init(key, .string(text)))
                case let number as NSNumber: fields.append(.init(key, .double(number.doubleValue)))
                case is NSNull: fields.append(.init(key, .null))
                default: break
                }
            }
            fields.sort { $0.name < $1.name }
            events.append(SecurityEvent(time: time, id: "L\(number)", source: .activity, fields: fields))
        }
        return events
    }
}
