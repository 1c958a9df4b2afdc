/// Everything the scanner learned about one file, and its verdict with every reason.
public struct ScanReport: Sendable, Equatable, Codable {
    /// The name shown (the upload's name, or the path given).
    public var name: String
    public var size: UInt64
    public var type: FileType
    public var digests: FileDigests
    public var entropy: EntropyProfile
    public var strings: StringsSummary
    public var elf: ELFHeader?
    public var pe: PEHeader?
    public var zip: ZipListing?
    /// The file's size or modification time changed while it was read: the digests describe
    /// bytes that may never have been on disk together.
    public var changedDuringScan: Bool
    /// What the YARA stage did: `off` with the reason, or the number of rules run.
    public var yara: String
    public var reasons: [ScanReason]

    /// The heaviest reason's weight.
    public var verdict: ScanVerdict { reasons.map(\.weight).max() ?? .clean }

    public init(name: String, size: UInt64, type: FileType, digests: FileDigests, entropy: EntropyProfile, strings: StringsSummary,
                elf: ELFHeader? = nil, pe: PEHeader? = nil, zip: ZipListing? = nil, changedDuringScan: Bool = false,
                yara: String = "off", reasons: [ScanReason] = []) {
        self.name = name
        self.size = size
        self.type = type
        self.digests = digests
        self.entropy = entropy
        self.strings = strings
        self.elf = elf
        self.pe = pe
        self.zip = zip
        self.changedDuringScan = changedDuringScan
        self.yara = yara
        self.reasons = reasons
    }

    enum CodingKeys: String, CodingKey {
        case name, size, type, digests, entropy, strings, elf, pe, zip, changedDuringScan, yara, reasons, verdict
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(size, forKey: .size)
        try c.encode(type, forKey: .type)
        try c.encode(digests, forKey: .digests)
        try c.encode(entropy, forKey: .entropy)
        try c.encode(strings, forKey: .strings)
        try c.encodeIfPresent(elf, forKey: .elf)
        try c.encodeIfPresent(pe, forKey: .pe)
        try c.encodeIfPresent(zip, forKey: .zip)
        try c.encode(changedDuringScan, forKey: .changedDuringScan)
        try c.encode(yara, forKey: .yara)
        try c.encode(reasons, forKey: .reasons)
        try c.encode(verdict, forKey: .verdict)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        size = try c.decode(UInt64.self, forKey: .size)
        type = try c.decode(FileType.self, forKey: .type)
        digests = try c.decode(FileDigests.self, forKey: .digests)
        entropy = try c.decode(EntropyProfile.self, forKey: .entropy)
        strings = try c.decode(StringsSummary.self, forKey: .strings)
        elf = try c.decodeIfPresent(ELFHeader.self, forKey: .elf)
        pe = try c.decodeIfPresent(PEHeader.self, forKey: .pe)
        zip = try c.decodeIfPresent(ZipListing.self, forKey: .zip)
        changedDuringScan = try c.decode(Bool.self, forKey: .changedDuringScan)
        yara = try c.decode(String.self, forKey: .yara)
        reasons = try c.decode([ScanReason].self, forKey: .reasons)
    }
}
