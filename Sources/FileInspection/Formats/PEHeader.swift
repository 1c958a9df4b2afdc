/// The facts of a Windows PE header an analyst looks at first.
public struct PEHeader: Sendable, Equatable, Codable {
    public var machine: String
    /// PE32 or PE32+.
    public var format: String
    public var isDLL: Bool
    /// GUI, console, native, EFI...
    public var subsystem: String
    /// Seconds since 1970 as the linker wrote it (often forged).
    public var timestamp: UInt32
    public var entryPoint: UInt32
    public var sections: [Section]
    /// A section both writable and executable.
    public var writableExecutableSection: Bool
    /// The entry point falls in no section's virtual range (a common packer trait).
    public var entryOutsideSections: Bool

    public struct Section: Sendable, Equatable, Codable {
        public var name: String
        public var virtualSize: UInt32
        public var rawSize: UInt32
        public var executable: Bool
        public var writable: Bool
    }

    /// Parses the headers from the file's first bytes; nil when they are not a valid PE.
    public static func parse(_ head: [UInt8]) -> PEHeader? {
        let r = ByteReader(bytes: head)
        guard head.count >= 64, head[0] == 0x4d, head[1] == 0x5a, let lfanew32 = r.u32(0x3c) else { return nil }
        let pe = Int(lfanew32)
        guard pe > 0, pe < head.count, r.u32(pe) == 0x0000_4550,
              let machine = r.u16(pe + 4), let sectionCount = r.u16(pe + 6), let timestamp = r.u32(pe + 8),
              let optionalSize = r.u16(pe + 20), let characteristics = r.u16(pe + 22) else { return nil }
        let optional = pe + 24
        guard let magic = r.u16(optional), magic == 0x10b || magic == 0x20b,
              let entry = r.u32(optional + 16), let subsystem = r.u16(optional + 68) else { return nil }
        var header = PEHeader(
            machine: Self.machineName(machine), format: magic == 0x20b ? "PE32+" : "PE32", isDLL: characteristics & 0x2000 != 0,
            subsystem: Self.subsystemName(subsystem), timestamp: timestamp, entryPoint: entry, sections: [],
            writableExecutableSection: false, entryOutsideSections: true)
        var base = optional + Int(optionalSize)
        for _ in 0..<Int(min(sectionCount, 96)) {
            guard let virtualSize = r.u32(base + 8), let address = r.u32(base + 12), let rawSize = r.u32(base + 16),
                  let flags = r.u32(base + 36) else { break }
            let section = Section(
                name: r.cString(base, limit: 8) ?? "", virtualSize: virtualSize, rawSize: rawSize,
                executable: flags & 0x2000_0000 != 0, writable: flags & 0x8000_0000 != 0)
            if section.executable && section.writable { header.writableExecutableSection = true }
            let end = UInt64(address) + UInt64(max(virtualSize, rawSize))
            if UInt64(entry) >= UInt64(address) && UInt64(entry) < end { header.entryOutsideSections = false }
            header.sections.append(section)
            base += 40
        }
        if entry == 0 && header.isDLL { header.entryOutsideSections = false }
        return header
    }

    static func machineName(_ value: UInt16) -> String {
        switch value {
        case 0x14c: "x86"
        case 0x8664: "x86-64"
        case 0x1c0: "ARM"
        case 0xaa64: "ARM64"
        default: "machine 0x" + String(value, radix: 16)
        }
    }

    static func subsystemName(_ value: UInt16) -> String {
        switch value {
        case 1: "native"
        case 2: "Windows GUI"
        case 3: "Windows console"
        case 10, 11, 12, 13: "EFI"
        default: "subsystem \(value)"
        }
    }
}
