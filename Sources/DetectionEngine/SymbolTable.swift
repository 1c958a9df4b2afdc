import SecurityModel

/// Field values the engine carries (group-by and aggregated fields: addresses, user names), each
/// interned once as a 32-bit symbol, so that hits, group keys and windows hold plain integers:
/// a key is hashed and compared as a number, and copying a hit costs no reference counting.
///
/// Symbol 0 stands for "no value" (absent or null). Values are hashed with the engine's seeded
/// ``KeyHasher``, so attacker-chosen values cannot be aimed at one bucket.
///
/// The table is kept bounded by the values still in use: ``collect(marking:)`` keeps the symbols
/// that a marking pass reaches and frees the rest (the engine runs it from its sweep, once the
/// table has doubled since the last collection). Symbols of kept values never change.
struct SymbolTable: Sendable {
    /// Values by symbol (freed symbols hold `.null`).
    private var values: [FieldValue] = [.null]
    private var hashes: [UInt64] = [0]
    /// Bucket -> symbol (0 is empty).
    private var buckets: [UInt32] = Array(repeating: 0, count: 64)
    private var mask = 63
    private var free: [UInt32] = []
    let hasher: KeyHasher
    /// Live symbols.
    private(set) var count = 0
    /// Incremented by every collection (caches of symbols compare it).
    private(set) var generation = 0

    init(hasher: KeyHasher) { self.hasher = hasher }

    /// The symbol for `value` (0 for nil and null), interning it when new.
    @inline(__always)
    mutating func intern(_ value: FieldValue?) -> UInt32 {
        guard let value else { return 0 }
        if case .null = value { return 0 }
        let hash = hasher.hash(value, hasher.seed)
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let symbol = buckets[bucket]
            if symbol == 0 { break }
            if hashes[Int(symbol)] == hash, values[Int(symbol)] == value { return symbol }
            bucket = (bucket + 1) & mask
        }
        if (count + 1) * 4 > buckets.count * 3 {
            grow()
            return intern(value)
        }
        let symbol: UInt32
        if let reused = free.popLast() {
            symbol = reused
            values[Int(symbol)] = value
            hashes[Int(symbol)] = hash
        } else {
            symbol = UInt32(values.count)
            values.append(value)
            hashes.append(hash)
        }
        buckets[bucket] = symbol
        count += 1
        return symbol
    }

    /// The value of `symbol` (`.null` for 0).
    @inline(__always)
    subscript(symbol: UInt32) -> FieldValue { values[Int(symbol)] }

    /// Symbols marked as in use by a ``SymbolTable/collect(marking:)`` pass.
    struct Marks {
        fileprivate var bits: [UInt64]
        @inline(__always)
        mutating func mark(_ symbol: UInt32) {
            let index = Int(symbol)
            if index >> 6 < bits.count { bits[index >> 6] |= 1 << UInt64(index & 63) }
        }
        fileprivate func isMarked(_ symbol: Int) -> Bool { bits[symbol >> 6] & (1 << UInt64(symbol & 63)) != 0 }
    }

    /// Frees every symbol that `marking` does not mark; returns how many were freed.
    @discardableResult
    mutating func collect(marking: (inout Marks) -> Void) -> Int {
        var marks = Marks(bits: Array(repeating: 0, count: (values.count + 63) / 64))
        marking(&marks)
        var freed = 0
        for index in buckets.indices { buckets[index] = 0 }
        for symbol in 1..<values.count {
            if marks.isMarked(symbol) {
                if case .null = values[symbol] { continue }   // already free
                insertBucket(UInt32(symbol))
            } else if !isFree(symbol) {
                values[symbol] = .null
                free.append(UInt32(symbol))
                freed += 1
            }
        }
        count -= freed
        generation += 1
        return freed
    }

    /// Whether `symbol` is on the free list (its value is `.null`: interned values never are).
    private func isFree(_ symbol: Int) -> Bool {
        if case .null = values[symbol] { return true }
        return false
    }

    private mutating func insertBucket(_ symbol: UInt32) {
        var bucket = Int(truncatingIfNeeded: hashes[Int(symbol)]) & mask
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = symbol
    }

    private mutating func grow() {
        let size = buckets.count * 2
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
        for symbol in 1..<values.count where !isFree(symbol) { insertBucket(UInt32(symbol)) }
    }
}

/// The symbols of the values a hit carries for its parent correlations (see ``RuleSet`` `carried`),
/// at most ``CarriedSymbols/capacity``, held inline.
struct CarriedSymbols: Sendable {
    static let capacity = 8
    private var storage = SIMD8<UInt32>()

    init() {}

    @inline(__always)
    subscript(index: Int) -> UInt32 {
        get { storage[index] }
        set { storage[index] = newValue }
    }
}
