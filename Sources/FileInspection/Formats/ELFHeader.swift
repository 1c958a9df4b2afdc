/// The facts of an ELF file's header an analyst looks at first.
public struct ELFHeader: Sendable, Equatable, Codable {
    /// 32 or 64.
    public var bits: Int
    public var littleEndian: Bool
    /// EXEC, DYN (shared object or PIE), REL, CORE.
    public var type: String
    public var machine: String
    public var entryPoint: UInt64
    public var programHeaders: Int
    public var sectionHeaders: Int
    /// The program interpreter (`/lib64/ld-linux-x86-64.so.2`), when its segment is in the head read.
    public var interpreter: String?
    /// Statically linked: no interpreter and no dynamic segment seen.
    public var isStatic: Bool
    /// A segment both writable and executable (rare outside packers and shellcode loaders).
    public var writableExecutableSegment: Bool

    /// Parses the header from the file's first bytes; nil when they are not a valid ELF header.
    public static func parse(_ head: [UInt8]) -> ELFHeader? {
        guard head.count >= 52, head[0] == 0x7f, head[1] == 0x45, head[2] == 0x4c, head[3] == 0x46 else { return nil }
        guard head[4] == 1 || head[4] == 2, head[5] == 1 || head[5] == 2 else { return nil }
        let is64 = head[4] == 2
        var r = ByteReader(bytes: head)
        r.littleEndian = head[5] == 1
        guard let type = r.u16(16), let machine = r.u16(18) else { return nil }
        let entry = is64 ? r.u64(24) : r.u32(24).map(UInt64.init)
        let phoff = is64 ? r.u64(32) : r.u32(28).map(UInt64.init)
        let phentsize = r.u16(is64 ? 54 : 42)
        let phnum = r.u16(is64 ? 56 : 44)
        let shnum = r.u16(is64 ? 60 : 48)
        guard let entry, let phoff, let phentsize, let phnum, let shnum else { return nil }
        var header = ELFHeader(
            bits: is64 ? 64 : 32, littleEndian: r.littleEndian, type: Self.typeName(type), machine: Self.machineName(machine),
            entryPoint: entry, programHeaders: Int(phnum), sectionHeaders: Int(shnum), interpreter: nil,
            isStatic: true, writableExecutableSegment: false)
        // Program headers inside the head: PT_INTERP (3), PT_DYNAMIC (2), flags W (2) + X (1).
        if phoff < UInt64(head.count), phentsize >= (is64 ? 56 : 32) {
            for index in 0..<Int(min(phnum, 256)) {
                let base = Int(phoff) + index * Int(phentsize)
                guard let kind = r.u32(base) else { break }
                let flags = is64 ? r.u32(base + 4) : r.u32(base + 24)
                if let flags, flags & 0x3 == 0x3, kind == 1 { header.writableExecutableSegment = true }
                if kind == 2 { header.isStatic = false }
                if kind == 3 {
                    header.isStatic = false
                    let offset = is64 ? r.u64(base + 8) : r.u32(base + 4).map(UInt64.init)
                    if let offset, offset < UInt64(head.count) { header.interpreter = r.cString(Int(offset), limit: 256) }
                }
            }
        }
        return header
    }

    static func typeName(_ value: UInt16) -> String {
        switch value {
        case 1: "REL"
        case 2: "EXEC"
        case 3: "DYN"
        case 4: "CORE"
        default: "type \(value)"
        }
    }

    static func machineName(_ value: UInt16) -> String {
        switch value {
        case 3: "x86"
        case 8: "MIPS"
        case 20: "PowerPC"
        case 21: "PowerPC64"
        case 40: "ARM"
        case 62: "x86-64"
        case 183: "AArch64"
        case 243: "RISC-V"
        default: "machine \(value)"
        }
    }
}
