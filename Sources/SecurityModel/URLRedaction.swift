/// Printing URLs that may carry a password (`postgres://user:secret@host/db`).
public enum URLRedaction {
    /// `url` with the password of its user information replaced by `***`; works on text that is not
    /// a well-formed URL too (a malformed one is exactly what gets printed in an error), by looking
    /// for `scheme://user:password@` by hand.
    public static func redacted(_ url: String) -> String {
        let bytes = Array(url.utf8)
        let colon = UInt8(ascii: ":"), slash = UInt8(ascii: "/")
        var schemeEnd: Int?
        var index = 0
        while index + 2 < bytes.count {
            if bytes[index] == colon, bytes[index + 1] == slash, bytes[index + 2] == slash { schemeEnd = index + 3; break }
            index += 1
        }
        guard let start = schemeEnd else {
            // No authority: user information cannot be told apart from the rest; show the scheme only.
            guard let first = bytes.firstIndex(of: colon) else { return "***" }
            return String(decoding: bytes[..<first], as: UTF8.self) + ":***"
        }
        var end = start
        while end < bytes.count, ![UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#")].contains(bytes[end]) { end += 1 }
        guard let at = bytes[start..<end].lastIndex(of: UInt8(ascii: "@")) else { return url }
        let userEnd = bytes[start..<at].firstIndex(of: colon) ?? at
        let head = String(decoding: bytes[..<userEnd], as: UTF8.self)
        let tail = String(decoding: bytes[at...], as: UTF8.self)
        return head + ":***" + tail
    }

    /// The scheme of `url` (`postgres`), for messages that must not print the rest.
    public static func scheme(_ url: String) -> String {
        let scheme = url.unicodeScalars.prefix { scalar in
            (scalar.value >= 0x61 && scalar.value <= 0x7A) || (scalar.value >= 0x41 && scalar.value <= 0x5A)
                || (scalar.value >= 0x30 && scalar.value <= 0x39) || scalar == "+" || scalar == "-" || scalar == "."
        }
        guard !scheme.isEmpty else { return "(none)" }
        return String(String.UnicodeScalarView(scheme.prefix(20)))
    }
}
