/// Addresses and networks (IPv4 and IPv6) mapped to values, with longest-prefix lookup: the
/// block list's index, checked on every request before any other work.
///
/// Keys are the 128-bit address (IPv4 as IPv4-mapped IPv6) in two words. Entries are kept per
/// prefix length; a lookup masks the address once per prefix length in use, longest first, and
/// probes that length's hash table. With the usual mix (single addresses, a few network sizes)
/// that is a handful of hash probes, without allocating.
public struct AddressTable<Value: Sendable>: Sendable {
    /// A 128-bit address, or a network's masked address.
    public struct Key: Hashable, Sendable {
        public var high: UInt64
        public var low: UInt64

        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        public init(_ address: IPAddress) {
            var high: UInt64 = 0, low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(address.bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(address.bytes[index]) }
            self.init(high: high, low: low)
        }

        /// The first `length` bits (0...128), the rest zero.
        func masked(_ length: Int) -> Key {
            if length >= 128 { return self }
            if length <= 0 { return Key(high: 0, low: 0) }
            if length >= 64 {
                let bits = length - 64
                return Key(high: high, low: bits == 0 ? 0 : low & ~(UInt64.max >> UInt64(bits)))
            }
            return Key(high: high & ~(UInt64.max >> UInt64(length)), low: 0)
        }

        /// Parses an address written as SecMon records client addresses (dotted IPv4, or IPv6),
        /// without allocating for IPv4; nil when it is not an address.
        public init?(parsing text: String) {
            var utf8 = text.utf8
            if let v4 = Key.parseIPv4(&utf8) {
                self = v4
                return
            }
            guard let address = IPAddress(text) else { return nil }
            self.init(address)
        }

        private static func parseIPv4(_ utf8: inout String.UTF8View) -> Key? {
            var value: UInt32 = 0, part: UInt32 = 0, digits = 0, dots = 0
            for byte in utf8 {
                if byte >= 0x30 && byte <= 0x39 {
                    if digits > 0 && part == 0 { return nil } // a leading zero
                    part = part * 10 + UInt32(byte - 0x30)
                    digits += 1
                    if digits > 3 || part > 255 { return nil }
                } else if byte == 0x2E {
                    guard digits > 0, dots < 3 else { return nil }
                    value = value << 8 | part
                    part = 0; digits = 0; dots += 1
                } else {
                    return nil
                }
            }
            guard dots == 3, digits > 0 else { return nil }
            value = value << 8 | part
            return Key(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value))
        }
    }

    private var tables: [Int: [Key: Value]] = [:]
    /// Prefix lengths in use, longest first.
    private var lengths: [Int] = []
    public private(set) var count = 0

    public init() {}

    /// Adds or replaces the entry for `block`.
    public mutating func insert(_ block: CIDRBlock, _ value: Value) {
        let key = Key(block.network).masked(block.prefixLength)
        if tables[block.prefixLength] == nil {
            tables[block.prefixLength] = [:]
            lengths.append(block.prefixLength)
            lengths.sort(by: >)
        }
        if tables[block.prefixLength]?.updateValue(value, forKey: key) == nil { count += 1 }
    }

    /// Removes the entry for `block`; returns its value.
    @discardableResult
    public mutating func remove(_ block: CIDRBlock) -> Value? {
        let key = Key(block.network).masked(block.prefixLength)
        guard let removed = tables[block.prefixLength]?.removeValue(forKey: key) else { return nil }
        count -= 1
        if tables[block.prefixLength]?.isEmpty == true {
            tables[block.prefixLength] = nil
            lengths.removeAll { $0 == block.prefixLength }
        }
        return removed
    }

    /// The value of the most specific entry containing `key`.
    public func lookup(_ key: Key) -> Value? {
        for length in lengths {
            if let value = tables[length]?[key.masked(length)] { return value }
        }
        return nil
    }

    /// The value of the most specific entry containing `address`.
    public func lookup(_ address: IPAddress) -> Value? { lookup(Key(address)) }

    /// Every entry.
    public var entries: [(prefixLength: Int, key: Key, value: Value)] {
        tables.flatMap { length, table in table.map { (length, $0.key, $0.value) } }
    }
}
