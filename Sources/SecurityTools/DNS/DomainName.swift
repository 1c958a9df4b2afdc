import Foundation
import SecurityModel

/// A name the DNS tool may ask about: letters, digits, hyphens and underscores (`_dmarc`), labels
/// of 1 to 63 bytes, 253 at most; Unicode labels are asked in Punycode. Pure.
public enum DomainName {
    /// Why a text is not a name that can be looked up.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The ASCII form of `text` for a query, or why it is not a domain name.
    public static func validate(_ text: String) throws(Refusal) -> String {
        var name = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !name.isEmpty else { throw Refusal(description: "give a name, such as example.com") }
        guard name.utf8.count <= 1024 else { throw Refusal(description: "'\(name.prefix(40))…' is far longer than a name (253 bytes)") }
        if name.hasSuffix(".") { name.removeLast() }
        if name.contains("://") || name.contains("/") {
            throw Refusal(description: "'\(name.prefix(60))' is a URL, not a name: give only its host (or use URL analysis)")
        }
        var ascii: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw Refusal(description: "'\(name.prefix(80))' has an empty label (two dots in a row, or a leading dot)") }
            var part = String(label)
            if !part.utf8.allSatisfy({ $0 < 0x80 }) {
                guard let encoded = Punycode.encode(part) else { throw Refusal(description: "the label '\(part.prefix(40))' is too long") }
                part = "xn--" + encoded
            }
            guard part.utf8.count <= 63 else { throw Refusal(description: "the label '\(part.prefix(40))…' is \(part.utf8.count) bytes; at most 63") }
            guard part.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f }) else {
                throw Refusal(description: "'\(label.prefix(63))' holds characters a name cannot (letters, digits, '-' and '_' only)")
            }
            guard part.first != "-" && part.last != "-" else { throw Refusal(description: "the label '\(part)' starts or ends with a hyphen") }
            ascii.append(part)
        }
        let joined = ascii.joined(separator: ".")
        guard joined.utf8.count <= 253 else { throw Refusal(description: "the name is \(joined.utf8.count) bytes; DNS allows 253") }
        return joined
    }

    /// The reverse-lookup name of an address: `7.2.0.192.in-addr.arpa`, or nibbles under `ip6.arpa`.
    public static func reverse(_ address: IPAddress) -> String {
        if address.isIPv4 {
            return address.bytes.suffix(4).reversed().map { String($0) }.joined(separator: ".") + ".in-addr.arpa"
        }
        let digits = Array("0123456789abcdef")
        var nibbles: [String] = []
        for byte in address.bytes.reversed() {
            nibbles.append(String(digits[Int(byte & 0x0f)]))
            nibbles.append(String(digits[Int(byte >> 4)]))
        }
        return nibbles.joined(separator: ".") + ".ip6.arpa"
    }
}
