import Dispatch
import EventPipeline
import FileInspection
import Fluent
import Foundation
import SecurityModel
import SQLKit
import Synchronization

/// Runs file integrity checks: walks the watched paths (on a thread of its own), compares them
/// with the baseline, stores the new changes and raises a `file_event` for each (F- rules).
/// Used by the scheduled service, the console's "Check now" and the API.
public struct FileIntegrityMonitor: Sendable {
    let database: @Sendable () -> (any Database)?
    let hostname: String
    let onEvent: @Sendable (SecurityEvent) -> Void
    private let last = LastCheck()

    public init(database: @escaping @Sendable () -> (any Database)?, hostname: String, onEvent: @escaping @Sendable (SecurityEvent) -> Void) {
        self.database = database
        self.hostname = hostname
        self.onEvent = onEvent
    }

    /// The latest check this process ran, when it ended, and who asked for it.
    public var lastCheck: (result: Result, at: Timestamp, by: String)? { last.value.withLock { $0 } }

    private final class LastCheck: Sendable {
        let value = Mutex<(result: Result, at: Timestamp, by: String)?>(nil)
    }

    /// What a check found.
    public struct Result: Sendable {
        public var paths: Int
        /// Every difference from the baseline (open ones included).
        public var changes: [FileChange]
        /// The differences not already open: stored, and raised as events.
        public var fresh: [FileChange]
        public var problems: [FileScanError]
        /// Watched paths that do not exist.
        public var absentRoots: [String] = []
        public var seconds: Double
        /// The baseline was empty, so this check recorded it instead of comparing.
        public var recordedBaseline: Bool
    }

    func store() throws -> (FileIntegrityStore, any Database) {
        guard let fluent = database(), let sql = fluent as? any SQLDatabase else {
            throw FileScanError(path: "database", reason: "not available; file integrity checks need it")
        }
        return (FileIntegrityStore(database: sql), fluent)
    }

    /// Walks `roots` with `ignore`, off the cooperative pool.
    static func walk(_ roots: [String], ignore: IgnorePatterns) async -> TreeSnapshot {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: TreeWalker(ignore: ignore).snapshot(roots))
            }
        }
    }

    /// Records the baseline of the watched paths as they are now.
    public func baseline(by actor: AuditTrail.Actor) async throws -> TreeSnapshot {
        let (store, fluent) = try store()
        let settings = try await store.settings()
        let snapshot = await Self.walk(settings.paths, ignore: settings.patterns)
        try await store.recordBaseline(roots: settings.paths, snapshot: snapshot, by: actor, on: fluent)
        return snapshot
    }

    /// Compares the watched paths with the baseline. With no baseline yet, records it instead
    /// (when `initialise`), so a fresh install starts watching without a manual step.
    public func check(initialise: Bool, by actor: AuditTrail.Actor) async throws -> Result {
        let started = Date()
        let (store, fluent) = try store()
        let settings = try await store.settings()
        let baseline = try await store.baseline(under: settings.paths)
        let snapshot = await Self.walk(settings.paths, ignore: settings.patterns)
        if baseline.isEmpty && initialise {
            try await store.recordBaseline(roots: settings.paths, snapshot: snapshot, by: actor, on: fluent)
            let result = Result(paths: snapshot.states.count, changes: [], fresh: [], problems: snapshot.problems,
                                absentRoots: snapshot.absentRoots, seconds: Date().timeIntervalSince(started), recordedBaseline: true)
            last.value.withLock { $0 = (result, .now(), actor.name) }
            return result
        }
        let changes = IntegrityComparison.changes(baseline: baseline, current: snapshot, roots: settings.paths, ignore: settings.patterns)
        let now = Timestamp.now()
        let fresh = try await store.record(changes, on: fluent, at: now)
        for change in fresh { onEvent(FileEvents.change(change, hostname: hostname, time: now)) }
        let result = Result(paths: snapshot.states.count, changes: changes, fresh: fresh, problems: snapshot.problems,
                            absentRoots: snapshot.absentRoots, seconds: Date().timeIntervalSince(started), recordedBaseline: false)
        last.value.withLock { $0 = (result, now, actor.name) }
        return result
    }
}
