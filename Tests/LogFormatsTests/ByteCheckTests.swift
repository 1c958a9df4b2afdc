@testable import LogFormats
import Testing

/// The word-at-a-time check for non-ASCII and NUL bytes that every line goes through before it is
/// decoded: it must find exactly the first such byte, whatever the line's length and the byte's
/// place (inside a 32-byte block, an 8-byte word or the overlapping tail).
@Suite("Line byte check")
struct ByteCheckTests {
    @Test("finds the first non-ASCII or NUL byte, as a byte-by-byte search does", arguments: [1, 2, 3])
    func agreesWithSearch(seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<5000 {
            let length = Int(next() % 100)
            var line = (0..<length).map { _ in UInt8(0x20 + next() % 0x5F) }
            // None, one or two bad bytes at random places.
            for _ in 0..<Int(next() % 3) where length > 0 {
                line[Int(next() % UInt64(length))] = [0x00, 0x80, 0xC3, 0xFF][Int(next() % 4)]
            }
            let expected = line.firstIndex { $0 == 0 || $0 >= 0x80 }
            #expect(line.withUnsafeBufferPointer { LineDecoder.firstNonASCIIOrNUL($0) } == expected, "\(line)")
        }
    }
}
