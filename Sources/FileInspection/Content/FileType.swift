/// What a file is, from its first bytes (never from its name).
public enum FileType: String, Sendable, Codable, CaseIterable {
    case elf, pe, machO = "mach-o", javaClass = "java-class", zip, apk, jar, officeOpenXML = "office-xml"
    case gzip, bzip2, xz, zstd, sevenZip = "7z", rar, tar
    case pdf, png, jpeg, gif, sqlite, script, text, empty, data

    /// A short human description.
    public var label: String {
        switch self {
        case .elf: "ELF executable or library"
        case .pe: "Windows PE executable"
        case .machO: "Mach-O executable"
        case .javaClass: "Java class file"
        case .zip: "ZIP archive"
        case .apk: "Android package (APK)"
        case .jar: "Java archive (JAR)"
        case .officeOpenXML: "Office Open XML document"
        case .gzip: "gzip compressed"
        case .bzip2: "bzip2 compressed"
        case .xz: "xz compressed"
        case .zstd: "Zstandard compressed"
        case .sevenZip: "7-Zip archive"
        case .rar: "RAR archive"
        case .tar: "tar archive"
        case .pdf: "PDF document"
        case .png: "PNG image"
        case .jpeg: "JPEG image"
        case .gif: "GIF image"
        case .sqlite: "SQLite database"
        case .script: "script (#!)"
        case .text: "text"
        case .empty: "empty"
        case .data: "data"
        }
    }

    /// Whether the type runs as code on some platform.
    public var isExecutable: Bool {
        switch self {
        case .elf, .pe, .machO, .javaClass, .apk, .jar, .script: true
        default: false
        }
    }

    /// The type of a file whose first bytes are `head` (up to a few KiB; 512 for tar).
    public static func detect(_ head: some Collection<UInt8>) -> FileType {
        let b = Array(head.prefix(4096))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + magic.count && Array(b[offset..<(offset + magic.count)]) == magic
        }
        if b.isEmpty { return .empty }
        if starts([0x7f, 0x45, 0x4c, 0x46]) { return .elf }
        if starts([0x4d, 0x5a]) { return .pe }
        if starts([0xcf, 0xfa, 0xed, 0xfe]) || starts([0xce, 0xfa, 0xed, 0xfe]) || starts([0xfe, 0xed, 0xfa, 0xcf]) { return .machO }
        if starts([0xca, 0xfe, 0xba, 0xbe]) {
            // Mach-O universal binaries share Java's magic; a class file's next word is its version (>= 45).
            if b.count >= 8, UInt16(b[6]) << 8 | UInt16(b[7]) >= 45 { return .javaClass }
            return .machO
        }
        if starts(Array("PK".utf8)) && (starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06])) { return .zip }
        if starts([0x1f, 0x8b]) { return .gzip }
        if starts(Array("BZh".utf8)) { return .bzip2 }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if starts([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) { return .sevenZip }
        if starts(Array("Rar!\u{1a}\u{07}".utf8)) { return .rar }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) { return .png }
        if starts([0xff, 0xd8, 0xff]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("SQLite format 3\u{0}".utf8)) { return .sqlite }
        if starts(Array("ustar".utf8), at: 257) { return .tar }
        if starts(Array("#!".utf8)) { return .script }
        return looksLikeText(b) ? .text : .data
    }

    /// No NUL bytes, and almost all bytes printable ASCII, whitespace or UTF-8 sequences.
    static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        var odd = 0
        for byte in bytes {
            if byte == 0 { return false }
            if byte < 0x20 && byte != 0x09 && byte != 0x0a && byte != 0x0d && byte != 0x0c && byte != 0x1b { odd += 1 }
        }
        return odd * 100 <= bytes.count && String(validating: bytes.prefix(bytes.count - trailingPartial(bytes)), as: UTF8.self) != nil
    }

    /// Bytes of a UTF-8 sequence cut at the end of `bytes` (a head read stops anywhere).
    private static func trailingPartial(_ bytes: [UInt8]) -> Int {
        var index = bytes.count - 1
        var seen = 0
        while index >= 0, seen < 3, bytes[index] & 0xc0 == 0x80 { index -= 1; seen += 1 }
        guard index >= 0, bytes[index] >= 0xc0 else { return 0 }
        let need = bytes[index] >= 0xf0 ? 4 : bytes[index] >= 0xe0 ? 3 : 2
        return seen + 1 < need ? seen + 1 : 0
    }
}
