/// An IPv4 or IPv6 address as 16 bytes (IPv4 as an IPv4-mapped IPv6 address), parsed without
/// the C library so that pure modules can match addresses and networks.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in network byte order; IPv4 is `::ffff:a.b.c.d`.
    public var bytes: [UInt8]
    /// Whether the text was an IPv4 address.
    public var isIPv4: Bool

    /// Parses dotted IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`, `::ffff:192.0.2.1`, with an optional
    /// `%zone` that is ignored). Returns `nil` for anything else.
    public init?<S: StringProtocol>(_ text: S) {
        var text = Substring(text)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        if let v4 = IPAddress.parseIPv4(text) {
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4
            isIPv4 = true
        } else if let v6 = IPAddress.parseIPv6(text) {
            bytes = v6
            isIPv4 = false
        } else {
            return nil
        }
    }

    /// The address of raw network-order bytes: 4 for IPv4, 16 for IPv6 (an IPv4-mapped IPv6
    /// address stays IPv6, as the kernel reports it). Returns `nil` for other lengths.
    public init?(networkBytes raw: some Collection<UInt8>) {
        switch raw.count {
        case 4:
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + raw
            isIPv4 = true
        case 16:
            bytes = Array(raw)
            isIPv4 = false
        default:
            return nil
        }
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out = [UInt8]()
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part), !(part.count > 1 && part.first == "0") else { return nil }
            out.append(value)
        }
        return out
    }

    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        var halves: [String] = []
        let chars = Array(text)
        var current = ""
        var i = 0
        while i < chars.count {
            if chars[i] == ":", i + 1 < chars.count, chars[i + 1] == ":" {
                halves.append(current); current = ""; i += 2
            } else {
                current.append(chars[i]); i += 1
            }
        }
        halves.append(current)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out = [UInt8]()
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowIPv4Tail, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    out += v4
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    out += [UInt8(value >> 8), UInt8(value & 0xFF)]
                }
            }
            return out
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowIPv4Tail: false),
              let tail = groups(halves[1], allowIPv4Tail: true),
              head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// Dotted IPv4, or IPv6 as RFC 5952 writes it: lower-case hex, the longest run of two or more
    /// zero groups (the first of equal runs) as `::` (`2001:db8::1`, `::1`, `::`).
    public var description: String {
        if isIPv4 { return bytes[12...].map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best = (start: -1, length: 0)
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < groups.count && groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        let text = { (range: ArraySlice<UInt16>) in range.map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.length >= 2 else { return text(groups[...]) }
        return text(groups[..<best.start]) + "::" + text(groups[(best.start + best.length)...])
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a single host.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
    /// The network address.
    public var network: IPAddress
    /// Prefix length in the 128-bit space (an IPv4 `/8` is stored as 104).
    public var prefixLength: Int

    /// Parses `address[/prefix]`. Returns `nil` when either part is malformed or the prefix is too long.
    public init?<S: StringProtocol>(_ text: S) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maxPrefix = address.isIPv4 ? 32 : 128
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maxPrefix).contains(value) else { return nil }
            prefix = value
        }
        network = address
        prefixLength = address.isIPv4 ? prefix + 96 : prefix
    }

    /// Whether `address` lies in this network.
    public func contains(_ address: IPAddress) -> Bool {
        var remaining = prefixLength
        var index = 0
        while remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address.bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= bits
            index += 1
        }
        return true
    }

    public var description: String {
        "\(network)/\(network.isIPv4 ? prefixLength - 96 : prefixLength)"
    }
}
