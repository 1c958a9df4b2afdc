import SecurityModel

/// The state of one correlation for all its group-by keys: an open-addressing hash table (linear
/// probing, backward-shift deletion) from key to a slot in plain arrays. Callers hash keys with a
/// ``KeyHasher`` and pass the hash in (the table stores it, so it never rehashes).
///
/// Keys are ``GroupKey`` numbers made of interned value symbols (``SymbolTable``), so a probe
/// compares integers. Group state lives in an array indexed by slot, so a sweep for expired groups
/// reads memory in order and copies nothing.
struct GroupTable: Sendable {
    /// Group state by slot; vacant slots hold ``CorrelationGroup/vacant``.
    private(set) var groups: [CorrelationGroup] = []
    /// Keys by slot (vacant slots keep 0).
    private(set) var keys: [GroupKey] = []
    private var hashes: [UInt64] = []
    /// When each slot's group last saw an event (vacant slots: `.max`, so they never expire). Kept
    /// apart from the groups so that a sweep for expired groups reads one dense array.
    private(set) var lastTimes: [Int64] = []
    /// Bucket -> slot + 1 (0 is empty).
    private var buckets: [Int32]
    private var mask: Int
    private var vacant: [Int32] = []
    /// Live groups.
    private(set) var count = 0
    init() {
        buckets = Array(repeating: 0, count: 16)
        mask = 15
    }

    /// The slot holding `key`, created with `make()` when absent.
    @inline(__always)
    mutating func slot(for key: GroupKey, hash: UInt64, make: () -> CorrelationGroup) -> Int {
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(buckets[bucket])
            if entry == 0 { break }
            let slot = entry - 1
            if hashes[slot] == hash, keys[slot] == key { return slot }
            bucket = (bucket + 1) & mask
        }
        // Absent: take a vacant slot (or a new one) and fill the empty bucket found.
        if (count + 1) * 4 > buckets.count * 3 {
            grow()
            return slot(for: key, hash: hash, make: make)
        }
        let slot: Int
        if let reused = vacant.popLast() {
            slot = Int(reused)
            groups[slot] = make()
            keys[slot] = key
            hashes[slot] = hash
            lastTimes[slot] = .min
        } else {
            slot = groups.count
            groups.append(make())
            keys.append(key)
            hashes.append(hash)
            lastTimes.append(.min)
        }
        buckets[bucket] = Int32(slot + 1)
        count += 1
        return slot
    }

    /// In-place access to a slot's state (reading a field does not copy the group).
    @inline(__always)
    subscript(slot: Int) -> CorrelationGroup {
        _read { yield groups[slot] }
        _modify { yield &groups[slot] }
    }

    /// Records that the group in `slot` saw an event at `time`.
    @inline(__always)
    mutating func setLastTime(_ time: Int64, slot: Int) { lastTimes[slot] = time }

    /// Removes the group in `slot`.
    mutating func remove(slot: Int) {
        let hash = hashes[slot]
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while Int(buckets[bucket]) != slot + 1 { bucket = (bucket + 1) & mask }
        // Backward-shift deletion: pull later entries of the probe run into the hole.
        var hole = bucket
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = Int(truncatingIfNeeded: hashes[Int(buckets[next]) - 1]) & mask
            // Move the entry if its home is not in (hole, next] (cyclically).
            let distanceToNext = (next - home) & mask
            let distanceToHole = (next - hole) & mask
            if distanceToNext >= distanceToHole {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
        groups[slot] = .vacant
        keys[slot] = 0
        lastTimes[slot] = .max
        vacant.append(Int32(slot))
        count -= 1
    }

    /// Removes every group.
    mutating func removeAll() {
        groups.removeAll()
        keys.removeAll()
        hashes.removeAll()
        lastTimes.removeAll()
        vacant.removeAll()
        buckets = Array(repeating: 0, count: 16)
        mask = 15
        count = 0
    }

    /// Number of slots (live and vacant), for iterating with ``subscript(slot:)``.
    var slotCount: Int { groups.count }

    /// Gives memory back after a burst of keys has expired: when fewer than a quarter of the slots
    /// are live, the live groups are packed into new arrays (slot numbers change).
    mutating func compactIfSparse() {
        guard groups.count > 1024, count * 4 < groups.count else { return }
        var packed = GroupTable()
        packed.groups.reserveCapacity(count * 2)
        for slot in groups.indices where !groups[slot].isVacant {
            var state = CorrelationGroup.vacant
            swap(&state, &groups[slot])
            let newSlot = packed.slot(for: keys[slot], hash: hashes[slot]) { state }
            packed.lastTimes[newSlot] = lastTimes[slot]
        }
        self = packed
    }

    private mutating func grow() {
        let size = buckets.count * 2
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
        for slot in groups.indices where !groups[slot].isVacant {
            var bucket = Int(truncatingIfNeeded: hashes[slot]) & mask
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = Int32(slot + 1)
        }
    }
}

/// Hashes field values and group keys: UTF-8 bytes eight at a time, each word folded into the
/// state with a 64x64->128-bit multiply (the high and low halves xored), from a random per-engine
/// seed, a few nanoseconds for an address or a user name where `Dictionary`'s SipHash costs
/// several times that. The random seed keeps attacker-chosen values (user names, paths) from being
/// aimed at one bucket. Equal values hash equally: numbers by value (`0.0` and `-0.0` alike), text
/// by its bytes.
struct KeyHasher: Sendable {
    let seed: UInt64

    init(seed: UInt64 = UInt64.random(in: .min ... .max)) { self.seed = seed | 1 }

    private static let k1: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let k2: UInt64 = 0xD6E8_FEB8_6659_FD93

    @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// The hash of a group key (symbols are small integers handed out in order, so they are mixed
    /// with the seed rather than used as they are).
    @inline(__always)
    func hash(_ key: GroupKey) -> UInt64 { Self.fold(Self.fold(key ^ seed, Self.k1), Self.k2) }

    @inline(__always)
    func hash(_ value: FieldValue, _ state: UInt64) -> UInt64 {
        switch value {
        case .string(let text):
            return text.utf8.withContiguousStorageIfAvailable { Self.bytes($0, Self.tagged(state, 1)) }
                ?? Array(text.utf8).withUnsafeBufferPointer { Self.bytes($0, Self.tagged(state, 1)) }
        case .int(let number): return Self.fold(UInt64(bitPattern: number) ^ Self.tagged(state, 2), Self.k1)
        case .double(let number): return Self.fold((number == 0 ? 0 : number.bitPattern) ^ Self.tagged(state, 3), Self.k1)
        case .bool(let flag): return Self.fold((flag ? 1 : 0) ^ Self.tagged(state, 4), Self.k1)
        case .null: return Self.fold(Self.tagged(state, 5), Self.k1)
        case .list(let elements): return elements.reduce(Self.fold(Self.tagged(state, 6), Self.k1)) { hash($1, $0) }
        }
    }

    /// The state with the value's type mixed in (so that `1`, `true` and `"1"` hash apart).
    @inline(__always)
    static func tagged(_ state: UInt64, _ tag: UInt64) -> UInt64 { state &+ tag &* k2 }

    @inline(__always)
    static func bytes(_ buffer: UnsafeBufferPointer<UInt8>, _ state: UInt64) -> UInt64 {
        var h = fold(state ^ UInt64(buffer.count), k1)
        guard let base = buffer.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var index = 0
        let count = buffer.count
        while index + 8 <= count {
            h = fold(h ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self), k2)
            index += 8
        }
        if index < count {
            // The last 1-7 bytes: one load ending at the last byte (overlapping bytes already hashed
            // are shifted out) when the text is at least 8 bytes long, else byte by byte.
            var tail: UInt64 = 0
            if count >= 8 {
                tail = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) >> UInt64(8 * (8 - (count - index)))
            } else {
                var shift: UInt64 = 0
                while index < count { tail |= UInt64(base[index]) << shift; shift += 8; index += 1 }
            }
            h = fold(h ^ tail, k2)
        }
        return fold(h, k1)
    }
}
