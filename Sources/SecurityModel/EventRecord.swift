/// A decoded event as the detection engine sees it: a time, the values of the fields the loaded
/// rules test (by slot, see ``FieldTable``), optionally the raw line (for keyword rules), and where
/// it came from.
///
/// Decoders fill only the slots the rules ask for, so an event costs what the rules need, not what
/// the line holds. One record is reused for every line of a stream.
///
/// Text a decoder read without escapes may be held as its UTF-8 bytes (``setText(_:slot:)``)
/// rather than as a `String`: the engine looks those up and interns them from the bytes, and a
/// `String` is made only when something reads the value through ``subscript(slot:)``.
public struct EventRecord: Sendable {
    /// A text value held as bytes: where it is in ``text`` (`length` < 0: none).
    @usableFromInline
    struct TextSpan: Sendable {
        @usableFromInline var start: Int32
        @usableFromInline var length: Int32
        @usableFromInline static let none = TextSpan(start: 0, length: -1)
        @usableFromInline init(start: Int32, length: Int32) { self.start = start; self.length = length }
    }

    /// When the event happened (UTC).
    public var timestamp: Timestamp
    /// Values by slot that are not held as bytes.
    @usableFromInline var stored: [FieldValue?]
    @usableFromInline var spans: [TextSpan]
    /// The bytes of the text values held as bytes: the first `textEnd` of `text` (which only
    /// grows, so that a line's texts are copied in without reallocating or clearing).
    @usableFromInline var text: [UInt8] = []
    @usableFromInline var textEnd = 0
    /// Whether a slot may hold a value in `stored` (JSON lines fill only spans: reset skips it).
    @usableFromInline var anyStored = false
    /// The whole line, when a loaded rule has keyword searches; otherwise empty.
    public var raw: String
    /// The stream the event belongs to (selects the rules that apply).
    public var logSource: LogSource
    /// Where the event came from.
    public var ref: EventRef

    public init(slotCount: Int, logSource: LogSource = LogSource(), ref: EventRef = .line(source: 0, line: 0)) {
        self.timestamp = Timestamp(microseconds: 0)
        self.stored = Array(repeating: nil, count: slotCount)
        self.spans = Array(repeating: .none, count: slotCount)
        self.raw = ""
        self.logSource = logSource
        self.ref = ref
    }

    /// Field values by slot; `nil` means the field is absent.
    public var values: [FieldValue?] { stored.indices.map { self[$0] } }

    /// Number of slots.
    public var slotCount: Int { stored.count }

    /// Clears every slot (keeps the storage).
    @inlinable
    public mutating func reset() {
        if anyStored {
            for index in stored.indices where stored[index] != nil { stored[index] = nil }
            anyStored = false
        }
        spans.withUnsafeMutableBufferPointer { spans in
            for index in spans.indices { spans[index] = .none }
        }
        textEnd = 0
        if !raw.isEmpty { raw = "" }
    }

    /// The value in `slot`, or `nil` when absent or the slot is out of range. Reading a value held
    /// as bytes makes a `String` of it.
    @inlinable @inline(__always)
    public subscript(slot: Int) -> FieldValue? {
        get {
            guard slot < stored.count else { return nil }
            if let value = stored[slot] { return value }
            let span = spans[slot]
            guard span.length >= 0 else { return nil }
            return text.withUnsafeBufferPointer {
                .string(String(decoding: UnsafeBufferPointer(rebasing: $0[Int(span.start)..<Int(span.start + span.length)]), as: UTF8.self))
            }
        }
        set {
            guard slot < stored.count else { return }
            if newValue != nil { anyStored = true }
            stored[slot] = newValue
            spans[slot] = .none
        }
    }

    /// Whether `slot` holds a value (without making a `String` of text held as bytes).
    @inlinable @inline(__always)
    public func hasValue(_ slot: Int) -> Bool {
        slot < stored.count && (stored[slot] != nil || spans[slot].length >= 0)
    }

    /// Sets `slot` to the text whose UTF-8 bytes are `bytes` (which must be valid UTF-8), held as
    /// bytes until something reads it as a value.
    @inlinable @inline(__always)
    public mutating func setText(_ bytes: UnsafeBufferPointer<UInt8>, slot: Int) {
        guard slot < stored.count else { return }
        if stored[slot] != nil { stored[slot] = nil }
        spans[slot] = TextSpan(start: Int32(textEnd), length: Int32(bytes.count))
        let end = textEnd + bytes.count
        if end > text.count { text.append(contentsOf: repeatElement(0, count: max(end - text.count, text.count))) }
        if let source = bytes.baseAddress {
            text.withUnsafeMutableBufferPointer { ($0.baseAddress! + textEnd).update(from: source, count: bytes.count) }
        }
        textEnd = end
    }

    /// Calls `body` with the bytes of `slot`'s value when it is text held as bytes, else with nil
    /// (the value, if any, is then read with ``subscript(slot:)``).
    @inlinable @inline(__always)
    public func withText<R>(_ slot: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard slot < spans.count else { return body(nil) }
        let span = spans[slot]
        guard span.length >= 0 else { return body(nil) }
        return text.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[Int(span.start)..<Int(span.start + span.length)])) }
    }
}
