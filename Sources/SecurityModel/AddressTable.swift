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
            if let v6 = Key.parseIPv6(text.utf8) {
                self = v6
                return
            }
            // Forms the fast parsers leave out (an IPv4 tail, a zone, brackets).
            guard let address = IPAddress(text) else { return nil }
            self.init(address)
        }

        /// Plain IPv6 (hex groups, at most one `::`), without allocating; nil for anything else.
        private static func parseIPv6(_ utf8: String.UTF8View) -> Key? {
            // Groups before `::` go into `head`, after it into `tail`, each as a 128-bit number
            // (two words) that the next group shifts left.
            var head = (high: UInt64(0), low: UInt64(0)), tail = (high: UInt64(0), low: UInt64(0))
            var headCount = 0, tailCount = 0
            var seenGap = false, previousColon = false
            var value: UInt64 = 0, digits = 0, index = 0, gapEnd = -1
            func append(_ group: UInt64, to number: inout (high: UInt64, low: UInt64)) {
                number.high = number.high << 16 | number.low >> 48
                number.low = number.low << 16 | group
            }
            guard utf8.count >= 2, utf8.count <= 39 else { return nil }
            for byte in utf8 {
                defer { index += 1 }
                let nibble: UInt64
                switch byte {
                case 0x30...0x39: nibble = UInt64(byte - 0x30)
                case 0x61...0x66: nibble = UInt64(byte - 0x61 + 10)
                case 0x41...0x46: nibble = UInt64(byte - 0x41 + 10)
                case 0x3A:
                    if previousColon {
                        guard !seenGap else { return nil }
                        seenGap = true
                        gapEnd = index
                    } else if digits > 0 {
                        if seenGap { append(value, to: &tail); tailCount += 1 } else { append(value, to: &head); headCount += 1 }
                        value = 0
                        digits = 0
                    } else if index != 0 {
                        return nil
                    }
                    previousColon = true
                    continue
                default:
                    return nil
                }
                if previousColon && index == 1 { return nil } // one leading ':' alone
                previousColon = false
                value = value << 4 | nibble
                digits += 1
                if digits > 4 { return nil }
            }
            if digits > 0 {
                if seenGap { append(value, to: &tail); tailCount += 1 } else { append(value, to: &head); headCount += 1 }
            } else if gapEnd != index - 1 {
                return nil // ends with one ':' alone
            }
            let total = headCount + tailCount
            guard seenGap ? total <= 7 : total == 8 else { return nil }
            // head, shifted left past the zero groups and the tail, then the tail.
            let shift = 16 * (8 - headCount)
            var high: UInt64, low: UInt64
            if shift >= 128 {
                high = 0; low = 0
            } else if shift >= 64 {
                high = head.low << UInt64(shift - 64); low = 0
            } else if shift == 0 {
                high = head.high; low = head.low
            } else {
                high = head.high << UInt64(shift) | head.low >> UInt64(64 - shift); low = head.low << UInt64(shift)
            }
            high |= tail.high
            low |= tail.low
            return Key(high: high, low: low)
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
                    part = 0
                    digits = 0
                    dots += 1
                } else {
                    return nil
                }
            }
            guard dots == 3, digits > 0 else { return nil }
            value = value << 8 | part
            return Key(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value))
        }
    }

    /// One hash table per prefix length (index 0...128).
    private var tables: [[Key: Value]] = Array(repeating: [:], count: 129)
    /// Entries per prefix length, split by whether their network lies in the IPv4-mapped space
    /// (`::ffff:0:0/96`), to know which lengths a lookup must probe.
    private var v4Counts = [Int](repeating: 0, count: 129)
    private var v6Counts = [Int](repeating: 0, count: 129)
    /// The lengths an IPv4 (mapped) address must probe, longest first: those of IPv4 entries, and
    /// those up to 96 of others (a short IPv6 network such as `::/0` covers the mapped space).
    private var v4Lengths: [Int] = []
    /// The same for other IPv6 addresses.
    private var v6Lengths: [Int] = []
    public private(set) var count = 0

    private static func isMapped(_ key: Key) -> Bool { key.high == 0 && key.low >> 32 == 0xFFFF }

    private mutating func recomputeLengths() {
        v4Lengths = (0...128).reversed().filter { v4Counts[$0] > 0 || ($0 <= 96 && v6Counts[$0] > 0) }
        v6Lengths = (0...128).reversed().filter { v6Counts[$0] > 0 || ($0 <= 96 && v4Counts[$0] > 0) }
    }

    public init() {}

    /// Adds or replaces the entry for `block`.
    public mutating func insert(_ block: CIDRBlock, _ value: Value) {
        let length = block.prefixLength
        let key = Key(block.network).masked(length)
        guard tables[length].updateValue(value, forKey: key) == nil else { return }
        count += 1
        if Self.isMapped(key) { v4Counts[length] += 1 } else { v6Counts[length] += 1 }
        if v4Counts[length] + v6Counts[length] == 1 { recomputeLengths() }
    }

    /// Removes the entry for `block`; returns its value.
    @discardableResult
    public mutating func remove(_ block: CIDRBlock) -> Value? {
        let length = block.prefixLength
        let key = Key(block.network).masked(length)
        guard let removed = tables[length].removeValue(forKey: key) else { return nil }
        count -= 1
        if Self.isMapped(key) { v4Counts[length] -= 1 } else { v6Counts[length] -= 1 }
        if v4Counts[length] + v6Counts[length] == 0 { recomputeLengths() }
        return removed
    }

    /// The value of the most specific entry containing `key`.
    public func lookup(_ key: Key) -> Value? {
        for length in Self.isMapped(key) ? v4Lengths : v6Lengths {
            if let value = tables[length][key.masked(length)] { return value }
        }
        return nil
    }

    /// The value of the most specific entry containing `address`.
    public func lookup(_ address: IPAddress) -> Value? { lookup(Key(address)) }

    /// Every entry.
    public var entries: [(prefixLength: Int, key: Key, value: Value)] {
        tables.enumerated().flatMap { length, table in table.map { (length, $0.key, $0.value) } }
    }
}
