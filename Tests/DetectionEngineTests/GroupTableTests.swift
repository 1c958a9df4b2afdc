@testable import DetectionEngine
import SecurityModel
import Testing

/// The correlation state table against a plain `Dictionary` model, through random inserts,
/// lookups, removals (backward-shift deletion), growth and compaction.
@Suite("Group table")
struct GroupTableTests {
    @Test("behaves like a dictionary under random inserts and removals", arguments: [1, 2, 3])
    func matchesDictionary(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let hasher = KeyHasher(seed: seed)
        var table = GroupTable()
        var model: [GroupKey: Int64] = [:]
        for step in 0..<20_000 {
            let n = Int(random.next() % 3000)
            let key: GroupKey = n % 3 == 0 ? .one(.string("10.0.\(n / 256).\(n % 256)"))
                : n % 3 == 1 ? .two(.string("user\(n)"), .int(Int64(n))) : .one(.int(Int64(n)))
            // A fifth of the keys share seven hashes: long probe runs, wrap-around and backward shifts.
            let realHash = n % 5 == 0 ? UInt64(n % 7) : hasher.hash(key)
            if random.next() % 3 == 0, model[key] != nil {
                // Remove: find the slot by looking the key up, then delete it.
                let slot = table.slot(for: key, hash: realHash) { Issue.record("present key missing"); return CorrelationGroup(stepCount: 0) }
                table.remove(slot: slot)
                model[key] = nil
            } else {
                let slot = table.slot(for: key, hash: realHash) { CorrelationGroup(stepCount: 0) }
                if let time = model[key] {
                    #expect(table[slot].lastTime == time, "step \(step): \(key) lost its state")
                }
                table[slot].lastTime = Int64(step)
                model[key] = Int64(step)
            }
            #expect(table.count == model.count)
            if step % 5000 == 4999 {
                // Expire most keys, as a sweep would, then let the table pack itself.
                for slot in 0..<table.slotCount where table[slot].lastTime < Int64(step - 500) {
                    model[table.keys[slot]] = nil
                    table.remove(slot: slot)
                }
                table.compactIfSparse()
                #expect(table.count == model.count)
            }
        }
        for (key, time) in model {
            let realHash = Self.number(key).map { $0 % 5 == 0 ? UInt64($0 % 7) : hasher.hash(key) } ?? hasher.hash(key)
            let slot = table.slot(for: key, hash: realHash) { Issue.record("\(key) missing at the end"); return CorrelationGroup(stepCount: 0) }
            #expect(table[slot].lastTime == time)
        }
    }

    @Test("equal values hash equally; different values and types do not collide here")
    func hashing() {
        let hasher = KeyHasher(seed: 42)
        #expect(hasher.hash(.one(.string("203.0.113.7"))) == hasher.hash(.one(.string("203.0.11" + "3.7"))))
        #expect(hasher.hash(.one(.double(0))) == hasher.hash(.one(.double(-0.0))))
        let keys: [GroupKey] = [.one(.string("1")), .one(.int(1)), .one(.double(1)), .one(.bool(true)), .one(.null),
                                .two(.string("a"), .string("b")), .two(.string("b"), .string("a")), .one(.string("ab")),
                                .one(.string(String(repeating: "x", count: 40))), .one(.string(String(repeating: "x", count: 41)))]
        #expect(Set(keys.map { hasher.hash($0) }).count == keys.count)
        #expect(KeyHasher(seed: 1).hash(.one(.string("alice"))) != KeyHasher(seed: 2).hash(.one(.string("alice"))))
    }

    static func number(_ key: GroupKey) -> Int? {
        switch key {
        case .one(.int(let n)): return Int(n)
        case .two(_, .int(let n)): return Int(n)
        case .one(.string(let text)):
            let parts = text.split(separator: ".").compactMap { Int($0) }
            return parts.count == 4 ? parts[2] * 256 + parts[3] : nil
        default: return nil
        }
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
