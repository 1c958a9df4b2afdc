import SecurityModel
import Testing

/// Text held as bytes reads back as the same value, and every way of setting a slot replaces
/// what was there.
@Suite("Event record")
struct EventRecordTests {
    static func text(_ record: EventRecord, _ slot: Int) -> [UInt8]? { record.withText(slot) { $0.map(Array.init) } }

    @Test("text held as bytes reads as a string; values and bytes replace each other; reset clears both")
    func textAsBytes() {
        var record = EventRecord(slotCount: 3)
        #expect(!record.hasValue(0) && record[0] == nil && Self.text(record, 0) == nil)
        Array("10.0.0.1".utf8).withUnsafeBufferPointer { record.setText($0, slot: 0) }
        Array("Zoë".utf8).withUnsafeBufferPointer { record.setText($0, slot: 2) }
        #expect(record.hasValue(0) && !record.hasValue(1) && record.hasValue(2))
        #expect(record[0] == .string("10.0.0.1") && record[2] == .string("Zoë"))
        #expect(Self.text(record, 0) == Array("10.0.0.1".utf8))
        #expect(record.values == [.string("10.0.0.1"), nil, .string("Zoë")])
        // A value replaces text, and text a value (a JSON line may repeat a key).
        record[0] = .int(4)
        #expect(record[0] == .int(4) && Self.text(record, 0) == nil)
        Array("".utf8).withUnsafeBufferPointer { record.setText($0, slot: 0) }
        #expect(record[0] == .string("") && record.hasValue(0))
        record[2] = nil
        #expect(!record.hasValue(2) && record[2] == nil)
        // Out of range: ignored, reads nil.
        Array("x".utf8).withUnsafeBufferPointer { record.setText($0, slot: 9) }
        #expect(record[9] == nil && !record.hasValue(9) && Self.text(record, 9) == nil)
        record.reset()
        #expect(record.values == [nil, nil, nil])
        Array("b".utf8).withUnsafeBufferPointer { record.setText($0, slot: 1) }
        #expect(record.values == [nil, .string("b"), nil])
    }
}
