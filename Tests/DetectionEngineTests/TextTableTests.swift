@testable import DetectionEngine
import SecurityModel
import Testing

/// The rule index's value table: looking text up from its bytes must find exactly what looking it
/// up as a value finds (exact keys, case-insensitive matches, non-ASCII text).
@Suite("Rule index value table")
struct TextTableTests {
    /// Keys in several cases and scripts, and texts made from them by changing case, cutting and
    /// extending.
    static let keys = ["login_failure", "LOGIN_FAILURE", "logout", "Straße", "straße", "ÉCOLE", "école", "a", "", "/admin"]

    @Test("bytes and values find the same rules", arguments: [1, 2, 3, 4])
    func agreesWithValues(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var entries: [String: [Int]] = [:]
        for (index, key) in Self.keys.enumerated() where random.next() % 3 != 0 { entries[key, default: []].append(index) }
        let table = TextTable(entries)
        let pieces = Self.keys + ["Login_Failure", "LOGOUT", "LogOut", "STRASSE", "Straße ", "éCOLE", "x", "ß", "A"]
        for _ in 0..<2000 {
            var text = pieces[Int(random.next() % UInt64(pieces.count))]
            switch random.next() % 5 {
            case 0: text = text.uppercased()
            case 1: text = text.lowercased()
            case 2: text = text.map { random.next() % 2 == 0 ? $0.uppercased() : $0.lowercased() }.joined()
            case 3: text += pieces[Int(random.next() % UInt64(pieces.count))]
            default: break
            }
            let expected = RuleIndex.lookup(table, .string(text))
            let entry = Array(text.utf8).withUnsafeBufferPointer { table.entry(bytes: $0) }
            switch entry {
            case TextTable.useValue:
                // Only text with non-ASCII bytes may need the value lookup.
                #expect(text.utf8.contains { $0 >= 0x80 }, "'\(text)' sent to the value lookup")
            case TextTable.absent:
                #expect(expected == nil, "'\(text)' not found from bytes, found as a value")
            default:
                var found: [Int] = []
                table.withRules(entry) { found = Array($0) }
                #expect(found == expected, "'\(text)'")
            }
        }
    }
}
