@testable import DetectionEngine
import SecurityModel
import Testing

/// The correlation state table against a plain `Dictionary` model, through random inserts,
/// lookups, removals (backward-shift deletion), growth and compaction.
@Suite("Group table")
struct GroupTableTests {
    /// Count tables (0 steps), sequence tables of two steps (no window states) and of three (a
    /// window state per group, returned to the pool on removal and moved by compaction).
    @Test("behaves like a dictionary under random inserts and removals", arguments: [(1, 0), (2, 2), (3, 3), (4, 0)])
    func matchesDictionary(seed: UInt64, steps: Int) {
        var random = SplitMix(seed: seed)
        let hasher = KeyHasher(seed: seed)
        var table = GroupTable(stepCount: steps)
        var model: [GroupKey: Int64] = [:]
        // Observing through the engine's own call: counts and sequences of `steps` rules that never
        // expire here, so that their windows fill, spill from the groups and go back to the pool.
        let rule = CorrelationPlan.Window(type: steps > 0 ? .temporalOrdered : .eventCount, span: .max / 4,
                                          condition: .init(nil), stepCount: steps)
        var store = EvidenceStore()
        func observe(_ key: GroupKey, _ hash: UInt64, at time: Int64) {
            var outcome = GroupOutcome(openingTime: time)
            _ = table.observe(key: key, hash: hash, time: time, evidence: Evidence(.line(source: 0, line: time)), value: 0,
                              number: nil, positions: 1, rule: rule, store: &store, outcome: &outcome)
        }
        for step in 0..<20_000 {
            let n = UInt64(random.next() % 3000)
            // One-symbol and two-symbol keys (the second symbol in the high half).
            let key: GroupKey = n % 2 == 0 ? n + 1 : (n + 1) | (n % 17 + 1) << 32
            // A fifth of the keys share seven hashes: long probe runs, wrap-around and backward shifts.
            let realHash = Self.hash(key, hasher)
            if random.next() % 3 == 0, model[key] != nil {
                // Remove: find the slot by looking the key up, then delete it.
                let before = table.count
                let slot = table.slot(for: key, hash: realHash)
                #expect(table.count == before, "present key missing")
                table.remove(slot: slot)
                model[key] = nil
            } else {
                if let time = model[key] {
                    #expect(table.lastTime(table.slot(for: key, hash: realHash)) == time, "step \(step): \(key) lost its state")
                }
                observe(key, realHash, at: Int64(step))
                model[key] = Int64(step)
            }
            #expect(table.count == model.count)
            if step % 5000 == 4999 {
                // Expire most keys, as a sweep would, then let the table pack itself.
                for slot in 0..<table.slotCount where table.lastTime(slot) < Int64(step - 500) {
                    model[table.key(slot)] = nil
                    table.remove(slot: slot)
                }
                table.compactIfSparse()
                #expect(table.count == model.count)
            }
        }
        for (key, time) in model {
            let before = table.count
            let slot = table.slot(for: key, hash: Self.hash(key, hasher))
            #expect(table.count == before, "\(key) missing at the end")
            #expect(table.lastTime(slot) == time)
        }
    }

    static func hash(_ key: GroupKey, _ hasher: KeyHasher) -> UInt64 {
        key % 5 == 0 ? key % 7 : hasher.hash(key)
    }

    @Test("equal values hash equally; different values and types do not collide here")
    func hashing() {
        let hasher = KeyHasher(seed: 42)
        func hash(_ value: FieldValue) -> UInt64 { hasher.hash(value, hasher.seed) }
        #expect(hash(.string("203.0.113.7")) == hash(.string("203.0.11" + "3.7")))
        #expect(hash(.double(0)) == hash(.double(-0.0)))
        let values: [FieldValue] = [.string("1"), .int(1), .double(1), .bool(true), .null, .string("ab"), .string("ba"),
                                    .list([.string("a"), .string("b")]), .list([.string("b"), .string("a")]),
                                    .string(String(repeating: "x", count: 40)), .string(String(repeating: "x", count: 41))]
        #expect(Set(values.map(hash)).count == values.count)
        #expect(KeyHasher(seed: 1).hash(.string("alice"), 1) != KeyHasher(seed: 2).hash(.string("alice"), 2))
        // Keys are small integers: their hashes still spread over the low bits the table uses.
        let buckets = Set((1...1024 as ClosedRange<UInt64>).map { hasher.hash($0) & 1023 })
        #expect(buckets.count > 550)
    }
}

/// A small deterministic generator for the property tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
