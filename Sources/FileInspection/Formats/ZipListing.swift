/// A ZIP (or APK, JAR, Office) archive's table of contents, read from its central directory and
/// never extracted: what an analyst needs to judge it, with the traits of zip bombs and path
/// traversal counted.
public struct ZipListing: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var name: String
        public var compressedSize: UInt64
        public var uncompressedSize: UInt64
        /// 0 stored, 8 deflate, ...
        public var method: UInt16
        public var encrypted: Bool
    }

    /// Entries the directory declares.
    public var declaredEntries: Int = 0
    /// Entries read (at most `ZipListing.Limits.maxEntries`).
    public var entriesRead: Int = 0
    /// The first `Limits.maxListed` entries, for display.
    public var entries: [Entry] = []
    /// The sum of declared uncompressed sizes (saturating).
    public var totalUncompressed: UInt64 = 0
    public var totalCompressed: UInt64 = 0
    /// The highest uncompressed/compressed ratio of an entry over 1 MiB.
    public var maxRatio: Double = 0
    /// Names with `..` segments, absolute paths or drive letters.
    public var traversalNames: [String] = []
    /// Entries whose local headers another entry also claims (overlapping-entry bombs).
    public var overlappingEntries: Int = 0
    public var encryptedEntries: Int = 0
    /// Entries that are programs by name (.exe, .dll, .so, .dex, .sh, .ps1, .bat, .jar, .apk...).
    public var executableNames: [String] = []
    /// The directory was larger than `Limits.maxDirectoryBytes`, or ended early: only part was read.
    public var truncated: Bool = false
    /// What made the listing stop early, if anything.
    public var problem: String?

    public struct Limits: Sendable, Equatable {
        /// Central directory bytes read at most.
        public var maxDirectoryBytes = 16 << 20
        /// Entries read at most.
        public var maxEntries = 100_000
        /// Entries kept for display.
        public var maxListed = 200
        /// A declared total above this is a zip bomb.
        public var maxUncompressed: UInt64 = 4 << 30
        /// An entry over 1 MiB expanding more than this many times is a zip bomb.
        public var maxRatio: Double = 200

        public init() {}
    }

    /// Whether the archive has the traits of a decompression bomb under `limits`.
    public func isBomb(_ limits: Limits) -> Bool {
        totalUncompressed > limits.maxUncompressed || maxRatio > limits.maxRatio || overlappingEntries > 0
    }

    /// What the listing says the archive is, beyond a plain ZIP.
    public var flavour: FileType {
        let names = Set(entries.map(\.name))
        if names.contains("AndroidManifest.xml") && names.contains(where: { $0.hasSuffix(".dex") }) { return .apk }
        if names.contains("META-INF/MANIFEST.MF") && names.contains(where: { $0.hasSuffix(".class") }) { return .jar }
        if names.contains("[Content_Types].xml") { return .officeOpenXML }
        return .zip
    }
}

/// Where a ZIP's central directory is, from its end-of-central-directory record.
public struct ZipDirectoryLocation: Sendable, Equatable {
    public var offset: UInt64
    public var size: UInt64
    public var entries: UInt64

    /// Finds the end record in the archive's last bytes (`tail`, up to 64 KiB + 22 + 20 for a
    /// comment and a ZIP64 locator), for a file of `fileSize` bytes. ZIP64 records are followed
    /// when they sit in the tail, as they do in archives written by common tools.
    public static func find(tail: [UInt8], fileSize: UInt64) -> ZipDirectoryLocation? {
        let r = ByteReader(bytes: tail)
        guard tail.count >= 22 else { return nil }
        var index = tail.count - 22
        while index >= 0 {
            if r.u32(index) == 0x0605_4b50, let commentLength = r.u16(index + 20), index + 22 + Int(commentLength) <= tail.count {
                guard let entries = r.u16(index + 10), let size = r.u32(index + 12), let offset = r.u32(index + 16) else { return nil }
                var location = ZipDirectoryLocation(offset: UInt64(offset), size: UInt64(size), entries: UInt64(entries))
                if offset == 0xffff_ffff || size == 0xffff_ffff || entries == 0xffff, index >= 20, r.u32(index - 20) == 0x0706_4b50,
                   let record = r.u64(index - 20 + 8) {
                    let tailStart = fileSize - UInt64(tail.count)
                    if record >= tailStart, case let at = Int(record - tailStart), r.u32(at) == 0x0606_4b50,
                       let count = r.u64(at + 32), let size64 = r.u64(at + 40), let offset64 = r.u64(at + 48) {
                        location = ZipDirectoryLocation(offset: offset64, size: size64, entries: count)
                    }
                }
                guard location.offset <= fileSize, location.size <= fileSize - location.offset else { return nil }
                return location
            }
            index -= 1
        }
        return nil
    }
}

extension ZipListing {
    /// Reads the central directory's bytes (`directory`, at most `limits.maxDirectoryBytes` of
    /// them) declared to hold `declared` entries.
    public static func parse(directory: [UInt8], declared: UInt64, complete: Bool, limits: Limits = Limits()) -> ZipListing {
        var listing = ZipListing()
        listing.declaredEntries = Int(clamping: declared)
        listing.truncated = !complete
        let r = ByteReader(bytes: directory)
        var offset = 0
        var localOffsets = Set<UInt64>()
        while listing.entriesRead < limits.maxEntries, offset < directory.count {
            guard r.u32(offset) == 0x0201_4b50 else {
                if listing.entriesRead < listing.declaredEntries { listing.problem = "central directory entry \(listing.entriesRead + 1) is damaged at byte \(offset)" }
                break
            }
            guard let flags = r.u16(offset + 8), let method = r.u16(offset + 10), let compressed32 = r.u32(offset + 20),
                  let uncompressed32 = r.u32(offset + 24), let nameLength = r.u16(offset + 28), let extraLength = r.u16(offset + 30),
                  let commentLength = r.u16(offset + 32), let local32 = r.u32(offset + 42),
                  offset + 46 + Int(nameLength) <= directory.count else {
                listing.truncated = true
                break
            }
            let nameBytes = directory[(offset + 46)..<(offset + 46 + Int(nameLength))]
            let name = String(decoding: nameBytes, as: UTF8.self)
            var compressed = UInt64(compressed32), uncompressed = UInt64(uncompressed32), local = UInt64(local32)
            // ZIP64 extended information (0x0001): the 64-bit values of the fields set to all ones.
            var extra = offset + 46 + Int(nameLength)
            let extraEnd = min(extra + Int(extraLength), directory.count)
            while extra + 4 <= extraEnd, let id = r.u16(extra), let size = r.u16(extra + 2) {
                if id == 0x0001 {
                    var field = extra + 4
                    if uncompressed32 == 0xffff_ffff, let value = r.u64(field) { uncompressed = value; field += 8 }
                    if compressed32 == 0xffff_ffff, let value = r.u64(field) { compressed = value; field += 8 }
                    if local32 == 0xffff_ffff, let value = r.u64(field) { local = value }
                }
                extra += 4 + Int(size)
            }
            let entry = ZipListing.Entry(name: name, compressedSize: compressed, uncompressedSize: uncompressed, method: method, encrypted: flags & 1 != 0)
            listing.add(entry, limits: limits)
            if !localOffsets.insert(local).inserted { listing.overlappingEntries += 1 }
            offset += 46 + Int(nameLength) + Int(extraLength) + Int(commentLength)
        }
        if listing.entriesRead >= limits.maxEntries && listing.entriesRead < listing.declaredEntries { listing.truncated = true }
        return listing
    }

    private mutating func add(_ entry: Entry, limits: Limits) {
        entriesRead += 1
        if entries.count < limits.maxListed { entries.append(entry) }
        totalUncompressed = totalUncompressed.addingReportingOverflow(entry.uncompressedSize).overflow ? .max : totalUncompressed + entry.uncompressedSize
        totalCompressed = totalCompressed.addingReportingOverflow(entry.compressedSize).overflow ? .max : totalCompressed + entry.compressedSize
        if entry.uncompressedSize > 1 << 20 {
            let ratio = Double(entry.uncompressedSize) / Double(max(entry.compressedSize, 1))
            maxRatio = max(maxRatio, ratio)
        }
        if entry.encrypted { encryptedEntries += 1 }
        if Self.isTraversal(entry.name), traversalNames.count < 20 { traversalNames.append(entry.name) }
        let lower = entry.name.lowercased()
        if Self.programSuffixes.contains(where: { lower.hasSuffix($0) }), executableNames.count < 20 { executableNames.append(entry.name) }
    }

    static let programSuffixes = [".exe", ".dll", ".scr", ".so", ".dex", ".sh", ".ps1", ".bat", ".cmd", ".vbs", ".js", ".jar", ".apk", ".elf", ".bin"]

    /// A name that would land outside the directory it is extracted into.
    static func isTraversal(_ name: String) -> Bool {
        let unified = String(name.map { $0 == "\\" ? "/" : $0 })
        if unified.hasPrefix("/") { return true }
        let bytes = Array(unified.utf8)
        if bytes.count >= 2, bytes[1] == 0x3a, (bytes[0] | 0x20) >= 97, (bytes[0] | 0x20) <= 122 { return true }
        return unified.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }
}
