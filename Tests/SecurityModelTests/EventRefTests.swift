import SecurityModel
import Testing

/// Event references are plain data: ids are kept as UUID bits or short text and read back exactly.
@Suite("Event references")
struct EventRefTests {
    @Test("UUIDs, short ids and line references read back; longer ids are marked unknown")
    func ids() {
        let uuid = EventID.make(at: Timestamp(microseconds: 1_771_891_200_000_000))
        let ref = EventRef.id(uuid)
        if case .uuid = ref {} else { Issue.record("\(uuid) is not held as a UUID: \(ref)") }
        #expect(ref.id == uuid)
        #expect(EventRef.id(uuid.uppercased()) == ref)   // UUIDs compare case-insensitively, read back lower-case
        #expect(EventRef.id("e1").id == "e1")
        #expect(EventRef.id("0123456789abcdef").id == "0123456789abcdef")
        #expect(EventRef.id("é-ü").id == "é-ü")
        #expect(EventRef.id("e1") != EventRef.id("e2"))
        #expect(EventRef.id("") == .unknown)
        #expect(EventRef.id(String(repeating: "x", count: 17)) == .unknown)
        #expect(EventRef.id("0190f0aa-7b3c-7def-8123-456789abcdeg") == .unknown)   // not hex: not a UUID, too long
        #expect(EventRef.line(source: 2, line: 40).id == nil)
        #expect(EventRef.line(source: 2, line: 40).description == "#2:40")
    }
}
