import DequeModule

/// A first-in first-out queue bounded by bytes: what a stage holds between its producers and its
/// consumer. Not synchronised: its owner keeps it behind a lock.
///
/// Each item is counted at the size its producer estimates; the queue never holds more than
/// `budgetBytes` (one item larger than the whole budget is refused). What does not fit is dropped,
/// by the policy the owner picks, and counted: nothing is lost silently.
public struct BoundedQueue<Item> {
    /// What to drop when an item does not fit.
    public enum Overflow: Sendable {
        /// Refuse the new item (an intake: the producer learns at once, and what is queued keeps its order).
        case refuseNew
        /// Drop the oldest items until it fits (a sink whose writes fail: the newest state matters most).
        case dropOldest
    }

    /// Counters, for health reports.
    public struct Counters: Sendable, Equatable {
        /// Items offered.
        public var offered = 0
        /// Items dropped because the budget was full.
        public var dropped = 0
        /// Bytes of those items.
        public var droppedBytes = 0
        /// Items held now.
        public var queued = 0
        /// Bytes held now.
        public var queuedBytes = 0
        /// Most bytes held at once.
        public var peakBytes = 0
        public init() {}
    }

    /// Most bytes held at once.
    public let budgetBytes: Int
    public let overflow: Overflow
    private var items: Deque<(item: Item, bytes: Int)> = []
    public private(set) var counters = Counters()

    public init(budgetBytes: Int, overflow: Overflow) {
        self.budgetBytes = max(1, budgetBytes)
        self.overflow = overflow
    }

    public var isEmpty: Bool { items.isEmpty }
    public var count: Int { items.count }

    /// Adds `item`, counted as `bytes`; returns how many items were dropped to make room (for
    /// `.refuseNew`, 1 when the new item itself was refused).
    @discardableResult
    public mutating func append(_ item: Item, bytes: Int) -> Int {
        counters.offered &+= 1
        let size = max(1, bytes)
        if size > budgetBytes {
            drop(bytes: size)
            return 1
        }
        var dropped = 0
        if counters.queuedBytes &+ size > budgetBytes {
            switch overflow {
            case .refuseNew:
                drop(bytes: size)
                return 1
            case .dropOldest:
                while counters.queuedBytes &+ size > budgetBytes, let oldest = items.popFirst() {
                    counters.queuedBytes &-= oldest.bytes
                    drop(bytes: oldest.bytes)
                    dropped &+= 1
                }
            }
        }
        items.append((item, size))
        counters.queuedBytes &+= size
        counters.queued = items.count
        counters.peakBytes = max(counters.peakBytes, counters.queuedBytes)
        return dropped
    }

    /// Removes and returns up to `limit` items from the front.
    public mutating func removeFirst(upTo limit: Int) -> [Item] {
        let taken = min(limit, items.count)
        guard taken > 0 else { return [] }
        var out: [Item] = []
        out.reserveCapacity(taken)
        for _ in 0..<taken {
            let entry = items.removeFirst()
            counters.queuedBytes &-= entry.bytes
            out.append(entry.item)
        }
        counters.queued = items.count
        return out
    }

    /// Puts `batch` back in front (a write that failed is retried first), dropping the oldest
    /// items beyond the budget. Returns how many were dropped.
    @discardableResult
    public mutating func prepend(_ batch: [Item], bytes: (Item) -> Int) -> Int {
        for item in batch.reversed() {
            let size = max(1, bytes(item))
            items.prepend((item, size))
            counters.queuedBytes &+= size
        }
        var dropped = 0
        while counters.queuedBytes > budgetBytes, let oldest = items.popFirst() {
            counters.queuedBytes &-= oldest.bytes
            drop(bytes: oldest.bytes)
            dropped &+= 1
        }
        counters.queued = items.count
        return dropped
    }

    /// Removes everything, counting it as dropped; returns how many items that was.
    @discardableResult
    public mutating func dropAll() -> Int {
        let n = items.count
        for entry in items { drop(bytes: entry.bytes) }
        items.removeAll()
        counters.queuedBytes = 0
        counters.queued = 0
        return n
    }

    private mutating func drop(bytes: Int) {
        counters.dropped &+= 1
        counters.droppedBytes &+= bytes
    }
}
