import EventPipeline
import Foundation
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization

/// The sources every request is checked against before any other work (active response's
/// blocks): an in-memory index of the blocks in force, loaded from `response_actions` at start,
/// after every change this node makes, and every few seconds (blocks made by other nodes sharing
/// the database, and expiries).
public final class BlockList: Service, Sendable {
    /// One block in force.
    public struct Entry: Sendable, Hashable {
        public var id: String
        public var target: String
        /// Microseconds since the epoch; nil: until undone.
        public var expires: Int64?

        public init(id: String, target: String, expires: Int64?) {
            self.id = id
            self.target = target
            self.expires = expires
        }
    }

    private let table = Mutex(AddressTable<Entry>())
    private let blocked = Atomic<Int>(0)
    private let load: @Sendable () async throws -> [ResponseStore.Action]
    private let fingerprint: @Sendable () async throws -> String
    private let loaded = Mutex<String?>(nil)
    private let refreshSeconds: Double
    private let logger: Logger

    /// `load` reads the blocks in force; `fingerprint` answers, cheaply, something that changes
    /// whenever a block is added or undone (the periodic refresh reloads only then: expiry is
    /// checked at lookup time).
    init(refreshSeconds: Double, logger: Logger, fingerprint: @escaping @Sendable () async throws -> String = { UUID().uuidString },
         load: @escaping @Sendable () async throws -> [ResponseStore.Action]) {
        self.load = load
        self.fingerprint = fingerprint
        self.refreshSeconds = refreshSeconds
        self.logger = logger
    }

    /// The block in force for `address` at `now`, if any. Takes well under a microsecond (bench:
    /// `secmon bench-blocklist`).
    public func check(_ address: String, now: Int64) -> Entry? {
        guard let key = AddressTable<Entry>.Key(parsing: address) else { return nil }
        guard let entry = table.withLock({ $0.lookup(key) }) else { return nil }
        if let expires = entry.expires, expires <= now { return nil }
        blocked.add(1, ordering: .relaxed)
        return entry
    }

    /// Requests refused since start.
    public var refusedRequests: Int { blocked.load(ordering: .relaxed) }

    /// Blocks in force (as last loaded).
    public var count: Int { table.withLock { $0.count } }

    /// Reloads the blocks in force from the database if they changed since the last load
    /// (`force`: whatever the fingerprint says).
    public func reload(force: Bool = true) async {
        do {
            let current = try await fingerprint()
            if !force, loaded.withLock({ $0 }) == current { return }
            loaded.withLock { $0 = current }
            var fresh = AddressTable<Entry>()
            for action in try await load() {
                guard let block = CIDRBlock(action.target) else { continue }
                fresh.insert(block, Entry(id: action.id, target: action.target, expires: action.expires?.microseconds))
            }
            table.withLock { $0 = fresh }
        } catch {
            logger.error("could not load the block list; the previous one stays", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Replaces the index (benchmarks).
    public func replace(_ entries: AddressTable<Entry>) { table.withLock { $0 = entries } }

    /// A block list holding `entries` only, never reloading (benchmarks).
    public static func fixed(_ entries: AddressTable<Entry>) -> BlockList {
        let list = BlockList(refreshSeconds: 3600, logger: Logger(label: "bench")) { [] }
        list.replace(entries)
        return list
    }

    public func run() async throws {
        await reload()
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(Int(self.refreshSeconds * 1000)))
                await self.reload(force: false)
            }
        }
    }
}
