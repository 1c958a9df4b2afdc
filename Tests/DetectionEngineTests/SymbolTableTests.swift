@testable import DetectionEngine
import SecurityModel
import Testing

/// The table that interns carried values as symbols, against a dictionary model, through
/// collections that keep a random part of the values.
@Suite("Symbol table")
struct SymbolTableTests {
    @Test("equal values share a symbol; absent and null are 0; types stay apart")
    func interning() {
        var table = SymbolTable(hasher: KeyHasher(seed: 7))
        let a = table.intern(.string("203.0.113.7"))
        #expect(a != 0)
        #expect(table.intern(.string("203.0.11" + "3.7")) == a)
        #expect(table.intern(nil) == 0)
        #expect(table.intern(.null) == 0)
        let kinds: [FieldValue] = [.string("1"), .int(1), .double(1.5), .bool(true), .list([.string("1")])]
        let symbols = kinds.map { table.intern($0) }
        #expect(Set(symbols + [a]).count == kinds.count + 1)
        for (value, symbol) in zip(kinds, symbols) { #expect(table[symbol] == value) }
        // Text as bytes is the same symbol as text as a value; other types are never text.
        #expect(Array("203.0.113.7".utf8).withUnsafeBufferPointer { table.intern(text: $0) } == a)
        #expect(Array("1".utf8).withUnsafeBufferPointer { table.intern(text: $0) } == symbols[0])
        #expect(!Array("1".utf8).withUnsafeBufferPointer { table.isText(symbols[1], $0) })
        #expect(table.count == kinds.count + 1)
        #expect(Array("".utf8).withUnsafeBufferPointer { table.intern(text: $0) } == table.intern(.string("")))
        // Texts of up to 16 bytes are compared by their first and last eight bytes as words; longer
        // ones that share those differ only in the middle.
        let sixteen = table.intern(.string("abcdefgh12345678"))
        let long = table.intern(.string("abcdefghX12345678")), other = table.intern(.string("abcdefghY12345678"))
        #expect(Set([sixteen, long, other]).count == 3)
        #expect(Array("abcdefghY12345678".utf8).withUnsafeBufferPointer { table.intern(text: $0) } == other)
        #expect(Array("abcdefgh12345678".utf8).withUnsafeBufferPointer { table.intern(text: $0) } == sixteen)
        #expect(Array("abcdefgh1234567".utf8).withUnsafeBufferPointer { table.intern(text: $0) } != sixteen)
    }

    @Test("collection frees what is not marked and keeps the symbols of what is", arguments: [1, 2, 3])
    func collection(seed: UInt64) {
        var random = SplitMix(seed: seed)
        // A fifth of the values collide on purpose (same seed, values that differ only in type).
        var table = SymbolTable(hasher: KeyHasher(seed: seed))
        var model: [FieldValue: UInt32] = [:]
        for round in 0..<20 {
            for _ in 0..<2000 {
                let n = Int(random.next() % 5000)
                // Texts of up to 16 bytes are compared as two words, longer ones byte by byte.
                let value: FieldValue = n % 5 == 0 ? .int(Int64(n)) : n % 7 == 0 ? .string("a-longer-user-name-\(n)") : .string("user-\(n)")
                // Text comes both as values and as bytes (as the JSON decoder hands it over).
                let symbol: UInt32
                if case .string(let text) = value, random.next() % 2 == 0 {
                    symbol = Array(text.utf8).withUnsafeBufferPointer { table.intern(text: $0) }
                    #expect(Array(text.utf8).withUnsafeBufferPointer { table.isText(symbol, $0) })
                } else {
                    symbol = table.intern(value)
                }
                if let known = model[value] { #expect(symbol == known, "round \(round): \(value) changed symbol") }
                model[value] = symbol
                #expect(table[symbol] == value)
            }
            #expect(table.count == model.count)
            // Keep about a third, as if only those were still in use.
            let kept = model.filter { _ in random.next() % 3 == 0 }
            let freed = table.collect { marks in for symbol in kept.values { marks.mark(symbol) } }
            #expect(freed == model.count - kept.count)
            model = kept
            #expect(table.count == model.count)
            for (value, symbol) in model {
                #expect(table[symbol] == value && table.intern(value) == symbol)
                // The kept texts' bytes moved in the collection: they must still be found by bytes.
                if case .string(let text) = value {
                    #expect(Array(text.utf8).withUnsafeBufferPointer { table.intern(text: $0) } == symbol)
                    #expect(!Array((text + "x").utf8).withUnsafeBufferPointer { table.isText(symbol, $0) })
                }
            }
        }
    }

    @Test("carried symbols: each of the eight lanes holds its own value", arguments: [1, 2, 3])
    func carriedLanes(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var carried = CarriedSymbols()
        var model = Array(repeating: UInt32(0), count: CarriedSymbols.capacity)
        for _ in 0..<2000 {
            let lane = Int(random.next() % UInt64(CarriedSymbols.capacity))
            let value = random.next() % 4 == 0 ? UInt32.max : UInt32(truncatingIfNeeded: random.next())
            carried[lane] = value
            model[lane] = value
            #expect((0..<CarriedSymbols.capacity).map { carried[$0] } == model)
        }
    }
}
