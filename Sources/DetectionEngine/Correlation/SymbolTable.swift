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
    /// What a probe reads of a symbol, in one place: its hash, and its text's UTF-8 bytes (texts
    /// of up to 16 bytes inline, as two words; longer ones in `text`).
    struct Entry: Sendable {
        var hash: UInt64 = 0
        /// Text length in bytes (-1: not text).
        var length: Int32 = -1
        /// Where a text longer than 16 bytes starts in `text`.
        var start: UInt32 = 0
        var head: UInt64 = 0
        var tail: UInt64 = 0
    }

    /// Values by symbol (freed symbols hold `.null`).
    private var values: [FieldValue] = [.null]
    private var entries: [Entry] = [Entry()]
    /// The bytes of texts longer than 16 bytes.
    private var text: [UInt8] = []
    /// Bucket -> the high half of the hash and the symbol (0: empty), so that a probe passes
    /// other symbols' buckets without reading their entries.
    private var buckets: [UInt64] = Array(repeating: 0, count: 64)
    private var mask = 63
    private var free: [UInt32] = []
    let hasher: KeyHasher
    /// Live symbols.
    private(set) var count = 0
    /// Incremented by every collection (caches of symbols compare it).
    private(set) var generation = 0
    /// Longest text kept, in UTF-8 bytes: longer values are cut (at a character boundary) to it.
    let maxTextBytes: Int
    /// Values cut to ``maxTextBytes``.
    private(set) var truncated = 0

    init(hasher: KeyHasher, maxTextBytes: Int = .max) {
        self.hasher = hasher
        self.maxTextBytes = max(16, maxTextBytes)
    }

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
            let entry = buckets[bucket]
            if entry == 0 { break }
            let symbol = UInt32(truncatingIfNeeded: entry)
            if entry >> 32 == hash >> 32, entries[Int(symbol)].hash == hash, values[Int(symbol)] == value { return symbol }
            bucket = (bucket + 1) & mask
        }
        if (count + 1) * 4 > buckets.count * 3 {
            grow()
            return intern(value)
        }
        return add(value, Entry(hash: hash), bucket: bucket, text: nil)
    }

    /// The symbol of the text whose UTF-8 bytes are `bytes`, interning it when new.
    @inline(__always)
    mutating func intern(text bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if bytes.count > maxTextBytes {
            // Cut at a character boundary: back over continuation bytes (10xxxxxx).
            var end = maxTextBytes
            while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
            truncated &+= 1
            return intern(text: UnsafeBufferPointer(rebasing: bytes[0..<end]))
        }
        let hash = KeyHasher.bytes(bytes, KeyHasher.tagged(hasher.seed, 1))
        let (head, tail) = Self.words(bytes)
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = buckets[bucket]
            if entry == 0 { break }
            let symbol = UInt32(truncatingIfNeeded: entry)
            if entry >> 32 == hash >> 32, isText(symbol, bytes, head, tail) { return symbol }
            bucket = (bucket + 1) & mask
        }
        if (count + 1) * 4 > buckets.count * 3 {
            grow()
            return intern(text: bytes)
        }
        let entry = Entry(hash: hash, length: Int32(bytes.count), start: 0, head: head, tail: tail)
        return add(.string(String(decoding: bytes, as: UTF8.self)), entry, bucket: bucket, text: bytes)
    }

    /// Whether `symbol` stands for the text whose UTF-8 bytes are `bytes`.
    @inline(__always)
    func isText(_ symbol: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let (head, tail) = Self.words(bytes)
        return isText(symbol, bytes, head, tail)
    }

    @inline(__always)
    private func isText(_ symbol: UInt32, _ bytes: UnsafeBufferPointer<UInt8>, _ head: UInt64, _ tail: UInt64) -> Bool {
        entries.withUnsafeBufferPointer { entries in
            let entry = entries[Int(symbol)]
            guard Int(entry.length) == bytes.count, entry.head == head, entry.tail == tail else { return false }
            guard bytes.count > 16 else { return true }
            return text.withUnsafeBufferPointer { WordBytes.same($0.baseAddress! + Int(entry.start), bytes.baseAddress!, bytes.count) }
        }
    }

    /// The first and last eight bytes of `bytes` as words (overlapping when shorter than 16,
    /// zero-padded when shorter than 8): for texts of up to 16 bytes, equal words and lengths mean
    /// equal texts.
    @inline(__always)
    static func words(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        let count = bytes.count
        guard let base = bytes.baseAddress, count > 0 else { return (0, 0) }
        let raw = UnsafeRawPointer(base)
        if count >= 8 {
            return (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        }
        var head: UInt64 = 0
        for index in 0..<count { head |= UInt64(base[index]) << UInt64(8 * index) }
        return (head, 0)
    }

    private mutating func add(_ value: FieldValue, _ entry: Entry, bucket: Int, text bytes: UnsafeBufferPointer<UInt8>?) -> UInt32 {
        var entry = entry
        if let bytes, bytes.count > 16 {
            entry.start = UInt32(text.count)
            text.append(contentsOf: bytes)
        }
        let symbol: UInt32
        if !free.isEmpty {
            symbol = free.removeLast()
            values[Int(symbol)] = value
            entries[Int(symbol)] = entry
        } else {
            symbol = UInt32(values.count)
            values.append(value)
            entries.append(entry)
        }
        buckets[bucket] = (entry.hash & 0xFFFF_FFFF_0000_0000) | UInt64(symbol)
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
        // The kept long texts move to a new buffer, so that freed ones give their bytes back.
        var kept: [UInt8] = []
        for symbol in 1..<values.count {
            if marks.isMarked(symbol) {
                if case .null = values[symbol] { continue }   // already free
                insertBucket(UInt32(symbol))
                let length = Int(entries[symbol].length)
                if length > 16 {
                    let start = Int(entries[symbol].start)
                    entries[symbol].start = UInt32(kept.count)
                    kept.append(contentsOf: text[start..<(start + length)])
                }
            } else if !isFree(symbol) {
                values[symbol] = .null
                entries[symbol] = Entry()
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
        let hash = entries[Int(symbol)].hash
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(symbol)
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
    // Four words of two symbols each, rather than a SIMD vector: setting one lane of a vector
    // went through memory, and reading the vector back right after stalled on that store.
    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    private var w3: UInt64 = 0

    init() {}

    @inline(__always)
    subscript(index: Int) -> UInt32 {
        get {
            let shift = UInt64((index & 1) * 32)
            switch index >> 1 {
            case 0: return UInt32(truncatingIfNeeded: w0 >> shift)
            case 1: return UInt32(truncatingIfNeeded: w1 >> shift)
            case 2: return UInt32(truncatingIfNeeded: w2 >> shift)
            default: return UInt32(truncatingIfNeeded: w3 >> shift)
            }
        }
        set {
            let shift = UInt64((index & 1) * 32)
            let clear = ~(UInt64(0xFFFF_FFFF) << shift), bits = UInt64(newValue) << shift
            switch index >> 1 {
            case 0: w0 = w0 & clear | bits
            case 1: w1 = w1 & clear | bits
            case 2: w2 = w2 & clear | bits
            default: w3 = w3 & clear | bits
            }
        }
    }
}
