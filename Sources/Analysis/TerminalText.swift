/// Text for a person's terminal: values from logs (user names, paths, rule titles, rejection
/// reasons quoting a line) can hold escape sequences that would move the cursor, rewrite what is
/// shown or change the terminal's title. Every control character (C0, DEL, C1) and the bidirectional
/// overrides are shown as `\u{..}` instead.
public enum TerminalText {
    /// `text` with its control characters made visible.
    public static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true   // bidirectional embeddings, overrides, isolates
        default: return false
        }
    }
}
