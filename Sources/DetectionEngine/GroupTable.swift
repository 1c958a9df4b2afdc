import SecurityModel

/// The state of one correlation for all its group-by keys: an open-addressing hash table (linear
/// probing, backward-shift deletion) from key to a slot in plain arrays. Callers hash keys with a
/// ``KeyHasher`` and pass the hash in (the table stores it, so it never rehashes).
///
/// Keys are ``GroupKey`` numbers made of interned value symbols (``SymbolTable``), so a probe
/// compares integers. Group state lives in an array indexed by slot, so a sweep for expired groups
/// reads memory in order and copies nothing.
struct GroupTable: Sendable {
    /// What a probe and a sweep read of a slot, in one place.
    struct Meta: Sendable {
        var key: GroupKey
        var hash: UInt64
        /// When the slot's group last saw an event (vacant slots: `.max`, so they never expire).
        var lastTime: Int64
    }

    /// Group state by slot; vacant slots hold ``CorrelationGroup/vacant``.
    private(set) var groups: [CorrelationGroup] = []
    /// Keys, hashes and last times by slot, kept apart from the groups so that a sweep for expired
    /// groups reads one dense array.
    private var meta: [Meta] = []
    /// Bucket -> the high half of the hash and slot + 1 (0: empty), so that a probe passes other
    /// keys' buckets without reading their slots.
    private var buckets: [UInt64]
    private var mask: Int
    private var vacant: [Int32] = []
    /// The groups' window states by ``CorrelationGroup/window``, and the free ones (reset, kept
    /// for the next group that needs one).
    private var windows: [WindowState] = []
    private var freeWindows: [Int32] = []
    /// The window state observations of groups without one are given (they never touch it).
    private var scratch = WindowState()
    /// Live groups.
    private(set) var count = 0
    init() {
        buckets = Array(repeating: 0, count: 16)
        mask = 15
    }

    @inline(__always)
    private static func bucketEntry(_ hash: UInt64, _ slot: Int) -> UInt64 { (hash & 0xFFFF_FFFF_0000_0000) | UInt64(slot + 1) }

    /// The slot holding `key`, created with `make()` when absent.
    @inline(__always)
    mutating func slot(for key: GroupKey, hash: UInt64, make: () -> CorrelationGroup) -> Int {
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = buckets[bucket]
            if entry == 0 { break }
            let slot = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
            if entry >> 32 == hash >> 32, meta[slot].key == key { return slot }
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
            meta[slot] = Meta(key: key, hash: hash, lastTime: .min)
        } else {
            slot = groups.count
            groups.append(make())
            meta.append(Meta(key: key, hash: hash, lastTime: .min))
        }
        buckets[bucket] = Self.bucketEntry(hash, slot)
        count += 1
        let steps = groups[slot].steps.count
        if groups[slot].window < 0, CorrelationGroup.needsWindow(stepCount: steps) {
            if let reused = freeWindows.popLast() {
                groups[slot].window = reused
            } else {
                windows.append(WindowState(stepCount: steps))
                groups[slot].window = Int32(windows.count - 1)
            }
        }
        return slot
    }

    /// Runs ``CorrelationGroup/observe(time:previousTime:evidence:value:number:positions:rule:window:store:outcome:)``
    /// on the group in `slot` with its window state.
    @inline(__always)
    mutating func observe(slot: Int, time: Int64, previousTime: Int64, evidence: Evidence, value: UInt32, number: Double?,
                          positions: UInt64, rule: CorrelationPlan.Window, store: inout EvidenceStore,
                          outcome: inout CorrelationGroup.Outcome) {
        let window = Int(groups[slot].window)
        if window >= 0 {
            groups[slot].observe(time: time, previousTime: previousTime, evidence: evidence, value: value, number: number,
                                 positions: positions, rule: rule, window: &windows[window], store: &store, outcome: &outcome)
        } else {
            groups[slot].observe(time: time, previousTime: previousTime, evidence: evidence, value: value, number: number,
                                 positions: positions, rule: rule, window: &scratch, store: &store, outcome: &outcome)
        }
    }

    /// The window state of the group in `slot` (an empty one when it has none).
    @inline(__always)
    func window(_ slot: Int) -> WindowState {
        let window = Int(groups[slot].window)
        return window >= 0 ? windows[window] : scratch
    }

    /// See ``CorrelationGroup/windowEvidence(now:window:store:)``.
    func windowEvidence(slot: Int, now: Int64, store: EvidenceStore) -> (refs: [EventRef], count: Int, firstTime: Int64) {
        groups[slot].windowEvidence(now: now, window: window(slot), store: store)
    }

    /// Marks the evidence store lists that the groups use.
    func markEvidence(_ marks: inout EvidenceStore.Marks) {
        for slot in groups.indices where !groups[slot].isVacant { groups[slot].markEvidence(&marks, window: window(slot)) }
    }

    /// In-place access to a slot's state (reading a field does not copy the group).
    @inline(__always)
    subscript(slot: Int) -> CorrelationGroup {
        _read { yield groups[slot] }
        _modify { yield &groups[slot] }
    }

    /// The key of the group in `slot` (0 for a vacant slot).
    @inline(__always)
    func key(_ slot: Int) -> GroupKey { meta[slot].key }

    /// When the group in `slot` last saw an event (`.min` before its first, `.max` when vacant).
    @inline(__always)
    func lastTime(_ slot: Int) -> Int64 { meta[slot].lastTime }

    /// Records that the group in `slot` saw an event at `time`.
    @inline(__always)
    mutating func setLastTime(_ time: Int64, slot: Int) { meta[slot].lastTime = time }

    /// Removes the group in `slot`.
    mutating func remove(slot: Int) {
        let target = Self.bucketEntry(meta[slot].hash, slot)
        var bucket = Int(truncatingIfNeeded: meta[slot].hash) & mask
        while buckets[bucket] != target { bucket = (bucket + 1) & mask }
        // Backward-shift deletion: pull later entries of the probe run into the hole.
        var hole = bucket
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = Int(truncatingIfNeeded: meta[Int(truncatingIfNeeded: buckets[next] & 0xFFFF_FFFF) - 1].hash) & mask
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
        let window = groups[slot].window
        if window >= 0 {
            windows[Int(window)].reset(stepCount: groups[slot].steps.count)
            freeWindows.append(window)
        }
        groups[slot] = .vacant
        meta[slot] = Meta(key: 0, hash: 0, lastTime: .max)
        vacant.append(Int32(slot))
        count -= 1
    }

    /// Removes every group.
    mutating func removeAll() {
        groups.removeAll()
        meta.removeAll()
        windows.removeAll()
        freeWindows.removeAll()
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
            // The live windows move along; the free ones are given back.
            if state.window >= 0 {
                var window = WindowState()
                swap(&window, &windows[Int(state.window)])
                packed.windows.append(window)
                state.window = Int32(packed.windows.count - 1)
            }
            let newSlot = packed.slot(for: meta[slot].key, hash: meta[slot].hash) { state }
            packed.meta[newSlot].lastTime = meta[slot].lastTime
        }
        self = packed
    }

    private mutating func grow() {
        let size = buckets.count * 2
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
        for slot in groups.indices where !groups[slot].isVacant {
            var bucket = Int(truncatingIfNeeded: meta[slot].hash) & mask
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = Self.bucketEntry(meta[slot].hash, slot)
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
