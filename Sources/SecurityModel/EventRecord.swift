/// A decoded event as the detection engine sees it: a time, the values of the fields the loaded
/// rules test (by slot, see ``FieldTable``), optionally the raw line (for keyword rules), and where
/// it came from.
///
/// Decoders fill only the slots the rules ask for, so an event costs what the rules need, not what
/// the line holds. One record is reused for every line of a stream.
public struct EventRecord: Sendable {
    /// When the event happened (UTC).
    public var timestamp: Timestamp
    /// Field values by slot; `nil` means the field is absent.
    public var values: [FieldValue?]
    /// The whole line, when a loaded rule has keyword searches; otherwise empty.
    public var raw: String
    /// The stream the event belongs to (selects the rules that apply).
    public var logSource: LogSource
    /// Where the event came from.
    public var ref: EventRef

    public init(slotCount: Int, logSource: LogSource = LogSource(), ref: EventRef = .line(source: 0, line: 0)) {
        self.timestamp = Timestamp(microseconds: 0)
        self.values = Array(repeating: nil, count: slotCount)
        self.raw = ""
        self.logSource = logSource
        self.ref = ref
    }

    /// Clears every slot (keeps the storage).
    @inlinable
    public mutating func reset() {
        for index in values.indices { values[index] = nil }
        raw = ""
    }

    /// The value in `slot`, or `nil` when absent or the slot is out of range.
    @inlinable @inline(__always)
    public subscript(slot: Int) -> FieldValue? {
        get { slot < values.count ? values[slot] : nil }
        set { if slot < values.count { values[slot] = newValue } }
    }
}
