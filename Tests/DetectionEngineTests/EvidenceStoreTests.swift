@testable import DetectionEngine
import SecurityModel
import Testing

/// Evidence lists beyond two references: copies share a list by prefix without seeing each
/// other's additions, and collection frees only what no live evidence reaches.
@Suite("Evidence store")
struct EvidenceStoreTests {
    static func ref(_ n: Int) -> EventRef { .line(source: 0, line: Int64(n)) }

    @Test("copies extended apart keep their own references")
    func sharing() {
        var store = EvidenceStore()
        var base = Evidence()
        for n in 1...4 { store.append(Self.ref(n), to: &base) }
        var left = base, right = base
        store.append(Self.ref(10), to: &left)
        store.append(Self.ref(20), to: &right)
        store.append(Self.ref(21), to: &right)
        store.append(Self.ref(5), to: &base)
        #expect(store.array(base) == [1, 2, 3, 4, 5].map(Self.ref))
        #expect(store.array(left) == [1, 2, 3, 4, 10].map(Self.ref))
        #expect(store.array(right) == [1, 2, 3, 4, 20, 21].map(Self.ref))
        #expect(left.count == 5 && right.count == 6)
        var small = Evidence(Self.ref(7))
        store.append(Self.ref(8), to: &small)
        #expect(store.array(small) == [7, 8].map(Self.ref))
    }

    @Test("collection frees unreached lists, keeps reached ones and reuses freed space")
    func collection() {
        var store = EvidenceStore()
        var kept: [Evidence] = []
        for round in 0..<5 {
            var all: [Evidence] = []
            for k in 0..<3000 {
                var evidence = Evidence()
                for n in 0..<(3 + k % 4) { store.append(Self.ref(round * 100_000 + k * 10 + n), to: &evidence) }
                all.append(evidence)
            }
            kept = all.enumerated().filter { $0.offset % 10 == 0 }.map(\.element)
            store.collect { marks in for evidence in kept { marks.mark(evidence) } }
            #expect(store.liveLists == kept.count)
            for (index, evidence) in kept.enumerated() {
                let k = index * 10
                #expect(store.array(evidence) == (0..<(3 + k % 4)).map { Self.ref(round * 100_000 + k * 10 + $0) })
            }
        }
    }
}
