/// Writing JSON string literals by hand, for lines whose field order matters.
public enum JSONText {
    /// Appends `value` as a quoted JSON string literal to `out`, escaping quotes, backslashes and
    /// control characters, and the Unicode line separators U+0085, U+2028 and U+2029 (readers that
    /// split lines on them would otherwise cut a record in two): a value can never break a line or
    /// a record.
    public static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        out.append(0x22)
        var value = value
        value.withUTF8 { bytes in
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            func escape(_ code: UInt16) {
                out.append(contentsOf: [0x5C, 0x75, hex[Int(code >> 12)], hex[Int(code >> 8 & 0xF)], hex[Int(code >> 4 & 0xF)], hex[Int(code & 0xF)]])
            }
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0x00..<0x20, 0x7F: escape(UInt16(byte))
                case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0x85:
                    escape(0x0085)
                    index += 1
                case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                    escape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                    index += 2
                default: out.append(byte)
                }
                index += 1
            }
        }
        out.append(0x22)
    }

    /// `value` as a quoted JSON string literal.
    public static func quoted(_ value: String) -> String {
        var out = [UInt8]()
        appendQuoted(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
