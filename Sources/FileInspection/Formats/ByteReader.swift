/// Bounds-checked little- or big-endian reads from a header's bytes: every read past the end
/// answers nil, so a truncated or hostile header cannot trap.
struct ByteReader {
    let bytes: [UInt8]
    var littleEndian = true

    func u8(_ offset: Int) -> UInt8? { offset >= 0 && offset < bytes.count ? bytes[offset] : nil }

    func u16(_ offset: Int) -> UInt16? { uint(offset, 2).map { UInt16(truncatingIfNeeded: $0) } }

    func u32(_ offset: Int) -> UInt32? { uint(offset, 4).map { UInt32(truncatingIfNeeded: $0) } }

    func u64(_ offset: Int) -> UInt64? { uint(offset, 8) }

    private func uint(_ offset: Int, _ width: Int) -> UInt64? {
        guard offset >= 0, offset <= bytes.count - width else { return nil }
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = UInt64(bytes[littleEndian ? offset + width - 1 - index : offset + index])
            value = value << 8 | byte
        }
        return value
    }

    /// NUL-terminated ASCII at `offset`, at most `limit` bytes.
    func cString(_ offset: Int, limit: Int) -> String? {
        guard offset >= 0, offset < bytes.count else { return nil }
        var end = offset
        while end < bytes.count, end - offset < limit, bytes[end] != 0 { end += 1 }
        return String(decoding: bytes[offset..<end].map { $0 >= 0x20 && $0 < 0x7f ? $0 : 0x3f }, as: UTF8.self)
    }
}
