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
    /// Text values also as UTF-8 bytes, so that text held as bytes is interned without a `String`:
    /// where each symbol's bytes are in `text` (`textLength` < 0: not text).
    private var textStart: [UInt32] = [0]
    private var textLength: [Int32] = [-1]
    private var text: [UInt8] = []
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
    /// Text is compared by its UTF-8 bytes, the same whether it comes as a `String` or as bytes.
    @inline(__always)
    mutating func intern(_ value: FieldValue?) -> UInt32 {
        guard let value else { return 0 }
        switch value {
        case .null: return 0
        case .string(var string): return string.withUTF8 { intern(text: $0) }
        default: break
        }
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
        return add(value, hash: hash, bucket: bucket, text: nil)
    }

    /// The symbol of the text whose UTF-8 bytes are `bytes`, interning it when new.
    @inline(__always)
    mutating func intern(text bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let hash = KeyHasher.bytes(bytes, KeyHasher.tagged(hasher.seed, 1))
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let symbol = buckets[bucket]
            if symbol == 0 { break }
            if hashes[Int(symbol)] == hash, isText(symbol, bytes) { return symbol }
            bucket = (bucket + 1) & mask
        }
        if (count + 1) * 4 > buckets.count * 3 {
            grow()
            return intern(text: bytes)
        }
        return add(.string(String(decoding: bytes, as: UTF8.self)), hash: hash, bucket: bucket, text: bytes)
    }

    /// Whether `symbol` stands for the text whose UTF-8 bytes are `bytes`.
    @inline(__always)
    func isText(_ symbol: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = Int(textLength[Int(symbol)])
        guard length == bytes.count else { return false }
        guard length > 0 else { return true }
        let start = Int(textStart[Int(symbol)])
        return text.withUnsafeBufferPointer { WordBytes.same($0.baseAddress! + start, bytes.baseAddress!, length) }
    }

    private mutating func add(_ value: FieldValue, hash: UInt64, bucket: Int, text bytes: UnsafeBufferPointer<UInt8>?) -> UInt32 {
        let start = UInt32(text.count)
        let length = Int32(bytes?.count ?? -1)
        if let bytes { text.append(contentsOf: bytes) }
        let symbol: UInt32
        if let reused = free.popLast() {
            symbol = reused
            values[Int(symbol)] = value
            hashes[Int(symbol)] = hash
            textStart[Int(symbol)] = start
            textLength[Int(symbol)] = length
        } else {
            symbol = UInt32(values.count)
            values.append(value)
            hashes.append(hash)
            textStart.append(start)
            textLength.append(length)
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
        // The kept texts move to a new buffer, so that freed ones give their bytes back.
        var kept: [UInt8] = []
        kept.reserveCapacity(text.count / 2)
        for symbol in 1..<values.count {
            if marks.isMarked(symbol) {
                if case .null = values[symbol] { continue }   // already free
                insertBucket(UInt32(symbol))
                let length = Int(textLength[symbol])
                if length >= 0 {
                    let start = Int(textStart[symbol])
                    textStart[symbol] = UInt32(kept.count)
                    kept.append(contentsOf: text[start..<(start + length)])
                }
            } else if !isFree(symbol) {
                values[symbol] = .null
                textLength[symbol] = -1
                free.append(UInt32(symbol))
                freed += 1
            }
        }
        text = kept
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
