import Foundation
import SecurityModel
import Testing

@Suite("Event ids")
struct EventIDTests {
    @Test("version 7 UUIDs: well-formed, unique, and ordered by time")
    func uuidV7() throws {
        var previous = ""
        var seen = Set<String>()
        for step in 0..<2000 {
            let id = EventID.make(at: Timestamp(microseconds: 1_771_911_003_451_967 + Int64(step) * 1000))
            #expect(id.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil, "\(id)")
            #expect(id > previous, "ids of later milliseconds sort after earlier ones")
            previous = id
            seen.insert(id)
        }
        #expect(seen.count == 2000)
        // The first 48 bits are the milliseconds.
        let id = EventID.make(at: Timestamp(iso8601: "2026-02-24T05:30:03.451967")!)
        let millis = UInt64(id.replacingOccurrences(of: "-", with: "").prefix(12), radix: 16)
        #expect(millis == 1_771_911_003_451)
    }
}
