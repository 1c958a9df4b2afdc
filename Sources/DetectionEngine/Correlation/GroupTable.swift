import SecurityModel

/// The state of one correlation for all its group-by keys: an open-addressing hash table (linear
/// probing, backward-shift deletion) from key to a slot in plain arrays. Callers hash keys with a
/// ``KeyHasher`` and pass the hash in (the table stores it, so it never rehashes).
///
/// Keys are ``GroupKey`` numbers made of interned value symbols (``SymbolTable``), so a probe
/// compares integers. Group state lives in an array indexed by slot, so a sweep for expired groups
/// reads memory in order and copies nothing. A table holds the groups of one kind of correlation:
/// ``SequenceGroup``s for the temporal types, ``CountGroup``s for the others (each is as small
/// as its kind allows: a group is a cache miss or two on every event).
///
/// A key's home bucket comes from the high half of its hash, which each bucket holds: moving
/// entries when a group is removed reads only the bucket array, and a removed group's state is
/// left where it is (the slot is marked vacant in ``Meta``) rather than overwritten.
struct GroupTable: Sendable {
    /// What a probe and a sweep read of a slot, in one place.
    struct Meta: Sendable {
        var key: GroupKey
        var hash: UInt64
        /// When the slot's group last saw an event (vacant slots: `.max`, so they never expire).
        var lastTime: Int64
    }

    /// The number of rules of the temporal correlation whose groups this table holds (0: a count
    /// or value type).
    let stepCount: Int
    /// Group state by slot, in the array of the table's kind (the other stays empty); what a
    /// vacant slot holds is stale (see ``isVacant(_:)``).
    private var counts: [CountGroup] = []
    private var sequences: [SequenceGroup] = []
    /// Keys, hashes and last times by slot, kept apart from the groups so that a sweep for expired
    /// groups reads one dense array.
    private var meta: [Meta] = []
    /// Bucket -> the high half of the hash and slot + 1 (0: empty), so that a probe passes other
    /// keys' buckets without reading their slots.
    private var buckets: [UInt64]
    private var mask: Int
    private var vacant: [Int32] = []
    /// The groups' window states by their `window` index, and the free ones (reset, kept for the
    /// next group that needs one).
    private var windows: [WindowState] = []
    private var freeWindows: [Int32] = []
    /// The window state observations of groups without one are given (they never touch it).
    private var scratch = WindowState()
    /// Live groups.
    private(set) var count = 0
    /// Most groups held; a new key beyond it evicts one.
    var cap = Int.max
    /// The state of the generator that samples eviction candidates.
    private var sampler: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A table for the groups of a correlation of `stepCount` rules when temporal (else 0).
    init(stepCount: Int = 0) {
        self.stepCount = stepCount
        buckets = Array(repeating: 0, count: 16)
        mask = 15
    }

    /// Whether the table holds sequence groups.
    @inline(__always)
    private var isSequence: Bool { stepCount > 0 }

    /// Whether a group of this table needs a ``WindowState``.
    private var needsWindow: Bool { isSequence ? SequenceGroup.needsWindow(stepCount: stepCount) : true }

    @inline(__always)
    private static func bucketEntry(_ hash: UInt64, _ slot: Int) -> UInt64 { (hash & 0xFFFF_FFFF_0000_0000) | UInt64(slot + 1) }

    /// The bucket where a probe for a key with this hash (or bucket entry: the high halves agree)
    /// starts.
    @inline(__always)
    private func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> 32) & mask }

    /// Whether `slot` holds no group (removed, awaiting reuse).
    @inline(__always)
    func isVacant(_ slot: Int) -> Bool { meta[slot].lastTime == .max }

    /// Removes one group to make room: of up to 8 live groups sampled at random (every one in a
    /// table of at most 16 slots), the one whose last event is oldest. Sampling keeps eviction O(1)
    /// however large the table, as approximated LRU does in Redis. Returns the removed group's open
    /// alert, if any (the caller closes it).
    mutating func evictOne() -> Int? {
        let slots = meta.count
        var victim = -1
        var oldest = Int64.max
        if slots <= 16 {
            for slot in 0..<slots where !isVacant(slot) && meta[slot].lastTime < oldest {
                oldest = meta[slot].lastTime
                victim = slot
            }
        } else {
            var sampled = 0
            for _ in 0..<64 where sampled < 8 {
                sampler ^= sampler << 13
                sampler ^= sampler >> 7
                sampler ^= sampler << 17
                let slot = Int(truncatingIfNeeded: sampler % UInt64(slots))
                if isVacant(slot) { continue }
                sampled += 1
                if meta[slot].lastTime < oldest { oldest = meta[slot].lastTime; victim = slot }
            }
            if victim < 0 { victim = meta.indices.first { !isVacant($0) } ?? -1 }
        }
        guard victim >= 0 else { return nil }
        let alert = openAlert(victim)
        remove(slot: victim)
        return alert
    }

    /// The slot holding `key`, with a new group when absent (evicting at the cap, unreported).
    mutating func slot(for key: GroupKey, hash: UInt64) -> Int {
        var outcome = GroupOutcome(openingTime: 0)
        return slot(for: key, hash: hash, outcome: &outcome)
    }

    /// The slot holding `key`, with a new group when absent. A new group in a table holding `cap`
    /// groups first evicts one (``evictOne()``), reported in `outcome`.
    @inline(__always)
    mutating func slot(for key: GroupKey, hash: UInt64, outcome: inout GroupOutcome) -> Int {
        var bucket = home(hash)
        while true {
            let entry = buckets[bucket]
            if entry == 0 { break }
            let slot = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
            if entry >> 32 == hash >> 32, meta[slot].key == key { return slot }
            bucket = (bucket + 1) & mask
        }
        // Absent: make room at the cap (the probe starts again: the removal may have moved entries),
        // then take a vacant slot (or a new one) and fill the empty bucket found.
        if count >= cap, count > 0 {
            outcome.evicted = true
            if let alert = evictOne(), alert >= 0 { outcome.evictedAlert = alert }
            return slot(for: key, hash: hash, outcome: &outcome)
        }
        if isFull {
            grow()
            return slot(for: key, hash: hash, outcome: &outcome)
        }
        let window = needsWindow ? takeWindow() : -1
        let slot: Int
        if !vacant.isEmpty {
            slot = Int(vacant.removeLast())
            meta[slot] = Meta(key: key, hash: hash, lastTime: .min)
        } else {
            slot = meta.count
            meta.append(Meta(key: key, hash: hash, lastTime: .min))
        }
        if isSequence {
            var group = SequenceGroup(stepCount: stepCount)
            group.window = window
            if slot < sequences.count { sequences[slot] = group } else { sequences.append(group) }
        } else {
            var group = CountGroup()
            group.window = window
            if slot < counts.count { counts[slot] = group } else { counts.append(group) }
        }
        buckets[bucket] = Self.bucketEntry(hash, slot)
        count += 1
        return slot
    }

    /// A window state from the pool (a new one when none is free).
    private mutating func takeWindow() -> Int32 {
        if !freeWindows.isEmpty { return freeWindows.removeLast() }
        windows.append(WindowState(stepCount: stepCount))
        return Int32(windows.count - 1)
    }

    /// Observes an event at `time` in the group of `key` (created when absent), and records the
    /// time as the group's last; returns the group's slot. An alert the group had open ends first
    /// (in `outcome.expiredAlert`) if its window emptied while the key was quiet; then the group of
    /// the table's kind observes the event: see ``CountGroup/observe(time:evidence:value:number:rule:window:outcome:)``
    /// and ``SequenceGroup/observe(time:evidence:positions:rule:window:store:outcome:)``.
    /// One call does it all: each access to a table in the engine's array of tables checks that the
    /// array is not shared.
    @inline(__always)
    mutating func observe(key: GroupKey, hash: UInt64, time: Int64, evidence: Evidence, value: UInt32, number: Double?,
                          positions: UInt64, rule: CorrelationPlan.Window, store: inout EvidenceStore,
                          outcome: inout GroupOutcome) -> Int {
        let slot = slot(for: key, hash: hash, outcome: &outcome)
        if let open = openAlert(slot), meta[slot].lastTime < time - rule.span {
            outcome.expiredAlert = open
            setOpenAlert(nil, slot: slot)
        }
        outcome.openAlert = openAlert(slot)
        if isSequence {
            let window = Int(sequences[slot].window)
            if window >= 0 {
                sequences[slot].observe(time: time, evidence: evidence, positions: positions, rule: rule,
                                        window: &windows[window], store: &store, outcome: &outcome)
            } else {
                sequences[slot].observe(time: time, evidence: evidence, positions: positions, rule: rule,
                                        window: &scratch, store: &store, outcome: &outcome)
            }
        } else {
            let window = Int(counts[slot].window)
            counts[slot].observe(time: time, evidence: evidence, value: value, number: number,
                                 rule: rule, window: &windows[window], outcome: &outcome)
        }
        meta[slot].lastTime = time
        return slot
    }

    /// The alert the group in `slot` has open (negative: an untracked episode of an intermediate
    /// correlation).
    @inline(__always)
    func openAlert(_ slot: Int) -> Int? { isSequence ? sequences[slot].openAlert : counts[slot].openAlert }

    @inline(__always)
    mutating func setOpenAlert(_ number: Int?, slot: Int) {
        if isSequence { sequences[slot].openAlert = number } else { counts[slot].openAlert = number }
    }

    /// The window state of the group in `slot` (an empty one when it has none).
    @inline(__always)
    private func window(_ slot: Int) -> WindowState {
        let window = Int(isSequence ? sequences[slot].window : counts[slot].window)
        return window >= 0 ? windows[window] : scratch
    }

    /// See ``CountGroup/windowEvidence(now:window:store:)`` (count tables only).
    func windowEvidence(slot: Int, now: Int64, store: EvidenceStore) -> (refs: [EventRef], count: Int, firstTime: Int64) {
        counts[slot].windowEvidence(now: now, window: window(slot), store: store)
    }

    /// Calls `body` with the symbol of each value in the window of the group in `slot` (value types).
    func forEachValue(slot: Int, _ body: (UInt32) -> Void) {
        guard !isSequence, counts[slot].usesWindowState else { return }
        for entry in windows[Int(counts[slot].window)].valued { body(entry.value) }
    }

    /// Marks the evidence store lists that the groups use.
    func markEvidence(_ marks: inout EvidenceStore.Marks) {
        for slot in meta.indices where !isVacant(slot) {
            if isSequence {
                sequences[slot].markEvidence(&marks, window: window(slot))
            } else {
                counts[slot].markEvidence(&marks, window: window(slot))
            }
        }
    }

    /// The key of the group in `slot` (0 for a vacant slot).
    @inline(__always)
    func key(_ slot: Int) -> GroupKey { meta[slot].key }

    /// When the group in `slot` last saw an event (`.min` before its first, `.max` when vacant).
    @inline(__always)
    func lastTime(_ slot: Int) -> Int64 { meta[slot].lastTime }

    /// Removes the group in `slot`.
    mutating func remove(slot: Int) {
        let target = Self.bucketEntry(meta[slot].hash, slot)
        var bucket = home(target)
        while buckets[bucket] != target { bucket = (bucket + 1) & mask }
        // Backward-shift deletion: pull later entries of the probe run into the hole.
        var hole = bucket
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = home(buckets[next])
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
        // The window state goes back to the pool, emptied if the group put anything in it.
        let window: Int32
        let used: Bool
        if isSequence {
            window = sequences[slot].window
            used = true
        } else {
            window = counts[slot].window
            used = counts[slot].usesWindowState
        }
        if window >= 0 {
            if used { windows[Int(window)].reset(stepCount: stepCount) }
            freeWindows.append(window)
        }
        meta[slot] = Meta(key: 0, hash: 0, lastTime: .max)
        vacant.append(Int32(slot))
        count -= 1
    }

    /// Removes every group.
    mutating func removeAll() {
        let cap = self.cap
        self = GroupTable(stepCount: stepCount)
        self.cap = cap
    }

    /// Number of slots (live and vacant), for iterating with ``isVacant(_:)``, ``openAlert(_:)``
    /// and the like.
    var slotCount: Int { meta.count }

    /// Gives memory back after a burst of keys has expired: when fewer than a quarter of the slots
    /// are live, the live groups are packed into new arrays (slot numbers change).
    mutating func compactIfSparse() {
        guard meta.count > 1024, count * 4 < meta.count else { return }
        var packed = GroupTable(stepCount: stepCount)
        packed.cap = cap
        packed.sampler = sampler
        packed.meta.reserveCapacity(count * 2)
        for slot in meta.indices where !isVacant(slot) {
            // The live windows move along; the free ones are given back.
            var window = Int32(-1)
            let current = isSequence ? sequences[slot].window : counts[slot].window
            if current >= 0 {
                var state = WindowState()
                swap(&state, &windows[Int(current)])
                packed.windows.append(state)
                window = Int32(packed.windows.count - 1)
            }
            if packed.isFull { packed.grow() }
            packed.file(meta[slot].hash, slot: packed.meta.count)
            packed.meta.append(meta[slot])
            if isSequence {
                var group = sequences[slot]
                group.window = window
                packed.sequences.append(group)
            } else {
                var group = counts[slot]
                group.window = window
                packed.counts.append(group)
            }
            packed.count += 1
        }
        self = packed
    }

    /// Whether one more group would fill the buckets past two thirds (the table must grow first).
    private var isFull: Bool { (count + 1) * 3 > buckets.count * 2 }

    /// Files `slot` under `hash`, in the first empty bucket of its probe run (its key must be absent).
    private mutating func file(_ hash: UInt64, slot: Int) {
        var bucket = home(hash)
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = Self.bucketEntry(hash, slot)
    }

    private mutating func grow() {
        let size = buckets.count * 2
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
        for slot in meta.indices where !isVacant(slot) { file(meta[slot].hash, slot: slot) }
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
