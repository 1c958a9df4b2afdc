import ActiveResponse
import EventPipeline
import Foundation
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization

/// Active response in force, in memory: the blocks and rate limits every request is checked
/// against before any other work, and the watchlist that raises later alerts. Loaded from
/// `response_actions` at start, after every change this node makes, and every few seconds when
/// the table changed (actions of other nodes sharing the database); expiry is checked at lookup.
public final class ResponseList: Service, Sendable {
    /// One action in force.
    public struct Entry: Sendable, Hashable {
        public var id: String
        public var target: String
        /// Microseconds since the epoch; nil: until undone.
        public var expires: Int64?
        public var reason: String = ""
        /// Requests a minute (rate limits).
        public var rate: Int = 0
        public var created: Int64 = 0

        public init(id: String, target: String, expires: Int64?, reason: String = "", rate: Int = 0, created: Int64 = 0) {
            self.id = id
            self.target = target
            self.expires = expires
            self.reason = reason
            self.rate = rate
            self.created = created
        }

        func isLive(_ now: Int64) -> Bool { expires.map { $0 > now } ?? true }
    }

    /// What a request's source gets.
    public enum Verdict: Sendable {
        /// 403 before any other work.
        case blocked(Entry)
        /// 429, with `Retry-After` in seconds.
        case limited(Entry, retryAfter: Int)
    }

    struct Tables: Sendable {
        var blocks = AddressTable<Entry>()
        var limits = AddressTable<Entry>()
        var watchedNetworks = AddressTable<Entry>()
        var watchedUsers: [String: Entry] = [:]
        var isEmpty: Bool { blocks.count == 0 && limits.count == 0 }
    }

    private let tables = Mutex(Tables())
    private let limiter = Mutex(RateLimiter())
    private let blocked = Atomic<Int>(0)
    private let limited = Atomic<Int>(0)
    private let load: @Sendable () async throws -> [ResponseStore.Action]
    private let fingerprint: @Sendable () async throws -> String
    private let loaded = Mutex<String?>(nil)
    private let refreshSeconds: Double
    private let logger: Logger
    /// Called after a reload that changed something: blocks, rate limits, watchlist entries.
    private let onChange: @Sendable (Int, Int, Int) -> Void

    /// `load` reads the actions in force; `fingerprint` answers, cheaply, something that changes
    /// whenever an action is added, edited or undone (the periodic refresh reloads only then).
    init(refreshSeconds: Double, logger: Logger, onChange: @escaping @Sendable (Int, Int, Int) -> Void = { _, _, _ in },
         fingerprint: @escaping @Sendable () async throws -> String = { UUID().uuidString },
         load: @escaping @Sendable () async throws -> [ResponseStore.Action]) {
        self.onChange = onChange
        self.load = load
        self.fingerprint = fingerprint
        self.refreshSeconds = refreshSeconds
        self.logger = logger
    }

    /// What `address` gets at `now` (microseconds), if it is blocked or over its rate limit.
    /// Takes well under a microsecond when it is neither (bench: `secmon bench-blocklist`).
    public func check(_ address: String, now: Int64) -> Verdict? {
        guard let key = AddressTable<Entry>.Key(parsing: address) else { return nil }
        let (block, limit) = tables.withLock { tables -> (Entry?, Entry?) in
            if tables.isEmpty { return (nil, nil) }
            return (tables.blocks.lookup(key), tables.limits.lookup(key))
        }
        if let block, block.isLive(now) {
            blocked.add(1, ordering: .relaxed)
            return .blocked(block)
        }
        guard let limit, limit.isLive(now) else { return nil }
        let bucket = AddressTable<Int>.Key(high: key.high, low: key.low)
        guard let wait = limiter.withLock({ $0.take(bucket, perMinute: limit.rate, now: now) }) else { return nil }
        limited.add(1, ordering: .relaxed)
        return .limited(limit, retryAfter: wait)
    }

    /// Watchlist entries in force about `entities` (addresses in a watched network, watched users).
    public func watched(_ entities: [Entity], now: Int64) -> [Entry] {
        tables.withLock { tables in
            var found: [Entry] = []
            for entity in entities {
                switch entity.kind {
                case .ip:
                    if let key = AddressTable<Entry>.Key(parsing: entity.value), let entry = tables.watchedNetworks.lookup(key), entry.isLive(now) {
                        found.append(entry)
                    }
                case .user:
                    if let entry = tables.watchedUsers[entity.value.lowercased()], entry.isLive(now) { found.append(entry) }
                default:
                    break
                }
            }
            return found
        }
    }

    /// Raises the level of alerts about a watchlisted address or user by one step (an alert at
    /// `critical` stays there) and notes why: the entry, since when, and its reason. Only entries
    /// made before the alert began count (the alert that watchlisted a source is not raised by it).
    public func raiseWatched(_ alerts: [SecurityAlert], now: Int64) -> [SecurityAlert] {
        let empty = tables.withLock { $0.watchedNetworks.count == 0 && $0.watchedUsers.isEmpty }
        if empty { return alerts }
        return alerts.map { alert in
            let entries = watched(alert.entities, now: now).filter { $0.created <= alert.firstTime.microseconds }
            guard let first = entries.first else { return alert }
            var raised = alert
            let levels = Severity.allCases
            let index = levels.firstIndex(of: alert.level) ?? 0
            raised.level = levels[min(index + 1, levels.count - 1)]
            let since = FormValues.display(Timestamp(microseconds: first.created))
            let change = raised.level == alert.level ? "Level stays \(alert.level.rawValue)" : "Level raised from \(alert.level.rawValue) to \(raised.level.rawValue)"
            raised.note = "\(change): \(first.target) is on the watchlist since \(since) UTC (\(first.reason); entry \(first.id))"
            return raised
        }
    }

    /// Requests refused as blocked since start.
    public var refusedRequests: Int { blocked.load(ordering: .relaxed) }
    /// Requests refused by a rate limit since start.
    public var limitedRequests: Int { limited.load(ordering: .relaxed) }
    /// Sources whose rate-limit buckets were dropped while still draining (the table was full).
    public var evictedBuckets: Int { limiter.withLock { $0.evicted } }

    /// Blocks in force (as last loaded).
    public var count: Int { tables.withLock { $0.blocks.count } }
    /// Rate limits in force (as last loaded).
    public var limitCount: Int { tables.withLock { $0.limits.count } }

    /// Reloads the actions in force from the database if they changed since the last load
    /// (`force`: whatever the fingerprint says).
    public func reload(force: Bool = true) async {
        do {
            let current = try await fingerprint()
            if !force, loaded.withLock({ $0 }) == current { return }
            loaded.withLock { $0 = current }
            var fresh = Tables()
            for action in try await load() {
                let entry = Entry(id: action.id, target: action.target, expires: action.expires?.microseconds, reason: action.reason,
                                  rate: action.rate ?? 0, created: action.created.microseconds)
                switch action.responseKind {
                case .block?:
                    if let block = CIDRBlock(action.target) { fresh.blocks.insert(block, entry) }
                case .rateLimit?:
                    if let block = CIDRBlock(action.target) { fresh.limits.insert(block, entry) }
                case .watch?:
                    if let block = CIDRBlock(action.target) { fresh.watchedNetworks.insert(block, entry) }
                    else if action.target.hasPrefix("user:") { fresh.watchedUsers[String(action.target.dropFirst(5))] = entry }
                default:
                    break
                }
            }
            tables.withLock { $0 = fresh }
            onChange(fresh.blocks.count, fresh.limits.count, fresh.watchedNetworks.count + fresh.watchedUsers.count)
        } catch {
            logger.error("could not load the actions in force; the previous ones stay", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Replaces the blocks (benchmarks).
    public func replace(blocks: AddressTable<Entry>, limits: AddressTable<Entry> = AddressTable<Entry>()) {
        tables.withLock { $0 = Tables(blocks: blocks, limits: limits) }
    }

    /// A list holding `blocks` only, never reloading (benchmarks).
    public static func fixed(_ blocks: AddressTable<Entry>, limits: AddressTable<Entry> = AddressTable<Entry>()) -> ResponseList {
        let list = ResponseList(refreshSeconds: 3600, logger: Logger(label: "bench")) { [] }
        list.replace(blocks: blocks, limits: limits)
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
