import Dispatch
import EventPipeline
import FileInspection
import Fluent
import Foundation
import SecurityModel
import SQLKit

/// Scans files for the console and the API: the scanner with the bundled list and every
/// indicator list administrators keep, read afresh for each scan; the report goes to the history,
/// and a verdict other than clean becomes an `antivirus` event for detection (S-01, S-02).
public struct FileScanService: Sendable {
    let database: @Sendable () -> (any SQLDatabase)?
    let hostname: String
    let onEvent: @Sendable (SecurityEvent) -> Void
    /// The YARA stage, or why it is off.
    public let yara: Result<YaraMatcher, YaraUnavailable>
    /// The online reputation lookup, when an API key is configured.
    public let reputation: ReputationLookup?

    public init(database: @escaping @Sendable () -> (any SQLDatabase)?, hostname: String,
                yara: Result<YaraMatcher, YaraUnavailable>, reputation: ReputationLookup? = nil,
                onEvent: @escaping @Sendable (SecurityEvent) -> Void) {
        self.database = database
        self.hostname = hostname
        self.yara = yara
        self.reputation = reputation
        self.onEvent = onEvent
    }

    /// What the scanner page says of the reputation lookup.
    public var reputationStatus: String {
        reputation.map { "on: " + $0.summary } ?? "off (set SECMON_REPUTATION_KEY to a VirusTotal API key to ask about each file's SHA-256)"
    }

    /// What the scanner page says of YARA.
    public var yaraStatus: String {
        switch yara {
        case .success(let matcher): "on: " + matcher.summary
        case .failure(let reason): "off: \(reason)"
        }
    }

    /// The scanner as configured now: bundled list, administrators' lists, matchers.
    public func scanner() async throws -> FileScanner {
        var lists: [(name: String, entries: [String])] = []
        if let sql = database() {
            lists = try await IndicatorListStore(database: sql).all().map { ($0.name, $0.entries) }
        }
        let matchers: [any FileMatcher] = (try? yara.get()).map { [$0] } ?? []
        return FileScanner(indicators: FileIndicators.with(lists), matchers: matchers)
    }

    /// Scans the file at `path` (shown as `name`), stores the report and raises the event.
    /// The scan runs on a thread of its own: reading a large file never holds up the event loop.
    public func scan(path: String, name: String, source: String, user: String) async throws -> (id: String, report: ScanReport) {
        let scanner = try await scanner()
        var report = try await BlockingWork.run(qos: .utility) { try scanner.scan(path: path, name: name) }
        if let reputation { report.reasons.append(await reputation.reason(sha256: report.digests.sha256)) }
        guard let sql = database() else { throw FileScanError(path: path, reason: "the database is not available; the scan was not stored") }
        let now = Timestamp.now()
        let id = try await FileScanStore(database: sql).insert(report, source: source, by: user, at: now)
        if report.verdict != .clean {
            onEvent(FileEvents.verdict(report, path: source == "path" ? path : name, source: source, user: user, hostname: hostname, time: now))
        }
        return (id, report)
    }
}
