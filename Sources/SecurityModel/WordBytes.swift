/// Byte tests on eight bytes at once (SWAR), shared by the scanners that look for quotes,
/// control bytes, NULs or a needle's first byte.
///
/// Each function returns a mask with the high bit set in the bytes that pass. Higher flagged bytes
/// may be false positives (a borrow runs upward from a real hit), but the lowest flagged byte is
/// always exact: use `mask.trailingZeroBitCount >> 3` for the first hit.
public enum WordBytes {
    public static let ones: UInt64 = 0x0101_0101_0101_0101
    public static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Bytes of `word` that are zero.
    @inlinable @inline(__always)
    public static func zeros(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }

    /// Bytes of `word` equal to `byte`.
    @inlinable @inline(__always)
    public static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 { zeros(word ^ (UInt64(byte) &* ones)) }

    /// Bytes of `word` below `limit` (which must be at most 0x80).
    @inlinable @inline(__always)
    public static func below(_ word: UInt64, _ limit: UInt8) -> UInt64 { (word &- UInt64(limit) &* ones) & ~word & highs }

    /// Whether the `count` bytes at `a` and at `b` are the same, compared eight at a time.
    @inlinable @inline(__always)
    public static func same(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var k = 0
        while k + 8 <= count {
            if UnsafeRawPointer(a + k).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + k).loadUnaligned(as: UInt64.self) { return false }
            k += 8
        }
        while k < count {
            if a[k] != b[k] { return false }
            k += 1
        }
        return true
    }
}
