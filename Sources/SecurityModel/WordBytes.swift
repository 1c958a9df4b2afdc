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
}
