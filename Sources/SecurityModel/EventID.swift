/// Event identifiers: UUID version 7 (RFC 9562), whose first 48 bits are the Unix time in
/// milliseconds. They are unique like any random UUID, but sort by time, so the database appends
/// new ids at the end of its primary-key index instead of at random places in it, and a listing
/// by id is a listing by time.
public enum EventID {
    /// A new version 7 UUID for `timestamp`, lower-case with hyphens.
    public static func make(at timestamp: Timestamp) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(at: timestamp, using: &generator)
    }

    /// A new version 7 UUID for `timestamp`, drawing its 74 random bits from `generator`.
    public static func make<G: RandomNumberGenerator>(at timestamp: Timestamp, using generator: inout G) -> String {
        let millis = UInt64(max(0, timestamp.microseconds / 1000))
        let random = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - i))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: random & 0x0F)          // version 7
        bytes[7] = UInt8(truncatingIfNeeded: random >> 8)
        bytes[8] = 0x80 | UInt8(truncatingIfNeeded: (random >> 16) & 0x3F)  // variant 10
        for i in 9..<16 { bytes[i] = UInt8(truncatingIfNeeded: random2 >> (8 * (i - 9))) }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(0x2D) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
