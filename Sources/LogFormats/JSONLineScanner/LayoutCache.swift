import SecurityModel

// The layout cache of ``JSONLineScanner``: the shapes of lines seen (bytes between values), learnt
// while scanning and replayed for lines of the same shape.

/// The layout of a line up to where its scan stopped: for each top-level value, the bytes before
/// it (from the end of the previous value: separator, key, colon, spacing) and what the value
/// feeds. Lines with the same bytes between their values are read by replaying it.
struct Shape: Sendable {
    struct Segment: Sendable {
        /// Where the bytes before the value are in ``Shape/bytes``.
        let offset: Int32
        let length: Int32
        /// The slot the value fills, or -1.
        let slot: Int32
        /// The time key rank the value provides, or -1.
        let timeRank: Int32
        /// Whether rules read fields inside an object under this key (the full scan descends).
        let nested: Bool
    }

    let bytes: [UInt8]
    let segments: [Segment]
    /// Whether the scan reached the end of the object (else it stopped early, at a comma).
    let complete: Bool
}

/// Shapes in one set of arrays: all their literal bytes, all their segments (offsets into the
/// bytes of all), and where each shape's segments are.
struct FlatShapes: Sendable {
    struct Span: Sendable {
        let start: Int32
        let end: Int32
        let complete: Bool
    }

    private(set) var bytes: [UInt8] = []
    private(set) var segments: [Shape.Segment] = []
    /// By index in the array of shapes flattened (they may be reordered, as the shapes are).
    var spans: [Span] = []

    init() {}

    init(_ shapes: [Shape]) {
        for shape in shapes {
            let base = Int32(bytes.count)
            spans.append(Span(start: Int32(segments.count), end: Int32(segments.count + shape.segments.count), complete: shape.complete))
            for segment in shape.segments {
                segments.append(Shape.Segment(offset: base + segment.offset, length: segment.length, slot: segment.slot,
                                              timeRank: segment.timeRank, nested: segment.nested))
            }
            bytes += shape.bytes
        }
    }

    /// Calls `body` with the three arrays, read in place.
    @inline(__always)
    func withBuffers<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Shape.Segment>, UnsafeBufferPointer<Span>) -> R) -> R {
        bytes.withUnsafeBufferPointer { bytes in
            segments.withUnsafeBufferPointer { segments in spans.withUnsafeBufferPointer { body(bytes, segments, $0) } }
        }
    }
}

/// Records a line's layout during a full scan (see ``Shape``).
struct ShapeLearner {
    private var valid = true
    private var literalStart = 0
    private var spans: [(start: Int, end: Int, slot: Int, timeRank: Int, nested: Bool)] = []
    var complete = false

    /// Whether the line can still be learned.
    var isLearning: Bool { valid }

    /// The line has something a replay cannot reproduce (an escaped key, a nested object read).
    mutating func giveUp() { valid = false }

    mutating func add(valueStart: Int, valueEnd: Int, slot: Int, timeRank: Int, nested: Bool) {
        guard valid else { return }
        spans.append((literalStart, valueStart, slot, timeRank, nested))
        literalStart = valueEnd
    }

    /// The layout learned from `line`, if it can be replayed.
    func shape(_ line: UnsafeBufferPointer<UInt8>) -> Shape? {
        guard valid, !spans.isEmpty, line.count < Int(Int32.max) else { return nil }
        var bytes: [UInt8] = []
        var segments: [Shape.Segment] = []
        for span in spans {
            segments.append(Shape.Segment(offset: Int32(bytes.count), length: Int32(span.end - span.start),
                                          slot: Int32(span.slot), timeRank: Int32(span.timeRank), nested: span.nested))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[span.start..<span.end]))
        }
        return Shape(bytes: bytes, segments: segments, complete: complete)
    }
}
