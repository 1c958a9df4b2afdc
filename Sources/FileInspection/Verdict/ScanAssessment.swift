/// Turns what the scanner measured into reasons: pure, so every rule of the verdict is tested
/// on reports built in the test.
public struct ScanAssessment: Sendable {
    public var indicators: FileIndicators
    public var zipLimits: ZipListing.Limits

    public init(indicators: FileIndicators, zipLimits: ZipListing.Limits = ZipListing.Limits()) {
        self.indicators = indicators
        self.zipLimits = zipLimits
    }

    /// The reasons for `report` (its own `reasons` are kept and these appended).
    public func reasons(for report: ScanReport) -> [ScanReason] {
        var out: [ScanReason] = []
        if let (hash, list) = indicators.list(for: report.digests) {
            out.append(ScanReason(code: "hash-indicator", weight: .malicious, detail: "hash \(hash) is on the indicator list \(list)"))
        }
        for address in report.strings.ipv4 {
            if let list = indicators.list(forAddress: address) {
                out.append(ScanReason(code: "address-indicator", weight: .suspicious, detail: "contains the address \(address), on the indicator list \(list)"))
            }
        }
        for domain in report.strings.domains {
            if let list = indicators.list(forDomain: domain) {
                out.append(ScanReason(code: "domain-indicator", weight: .suspicious, detail: "contains the domain \(domain), on the indicator list \(list)"))
            }
        }
        let categories = Array(Set(report.strings.findings.map(\.category))).sorted()
        if !categories.isEmpty {
            let examples = report.strings.findings.prefix(3).map { "'\($0.pattern)'" }.joined(separator: ", ")
            // Two kinds of trouble anywhere, or one in something that runs.
            let weight: ScanVerdict = categories.count >= 2 || report.type.isExecutable ? .suspicious : .clean
            out.append(ScanReason(code: "suspicious-strings", weight: weight,
                                  detail: "strings suggesting \(categories.joined(separator: ", ")) (\(examples))"))
        }
        if report.type.isExecutable && report.type != .script && report.size >= 4096 {
            let blocks = report.entropy.blocks
            if report.entropy.whole >= EntropyMeter.highThreshold || (blocks > 0 && report.entropy.highBlocks * 2 > blocks) {
                out.append(ScanReason(code: "packed", weight: .suspicious, detail: String(
                    "executable with high entropy (\(Self.bits(report.entropy.whole)) bits/byte whole, \(report.entropy.highBlocks) of \(blocks) blocks high): packed or encrypted")))
            }
        }
        if let elf = report.elf, elf.writableExecutableSegment {
            out.append(ScanReason(code: "writable-executable", weight: .suspicious, detail: "ELF segment both writable and executable"))
        }
        if let pe = report.pe {
            if pe.writableExecutableSection {
                let names = pe.sections.filter { $0.writable && $0.executable }.map(\.name).joined(separator: ", ")
                out.append(ScanReason(code: "writable-executable", weight: .suspicious, detail: "PE section both writable and executable (\(names))"))
            }
            if pe.entryOutsideSections && !pe.sections.isEmpty {
                out.append(ScanReason(code: "entry-outside-sections", weight: .suspicious, detail: "PE entry point 0x\(String(pe.entryPoint, radix: 16)) lies in no section"))
            }
        }
        if let zip = report.zip {
            if zip.isBomb(zipLimits) {
                var what: [String] = []
                if zip.totalUncompressed > zipLimits.maxUncompressed { what.append("expands to \(zip.totalUncompressed) bytes") }
                if zip.maxRatio > zipLimits.maxRatio { what.append("an entry expands \(Int(zip.maxRatio)) times") }
                if zip.overlappingEntries > 0 { what.append("\(zip.overlappingEntries) entries share their data") }
                out.append(ScanReason(code: "zip-bomb", weight: .malicious, detail: "decompression bomb: " + what.joined(separator: "; ")))
            }
            if !zip.traversalNames.isEmpty {
                out.append(ScanReason(code: "archive-traversal", weight: .suspicious,
                                      detail: "entries that would extract outside their folder: " + zip.traversalNames.prefix(3).joined(separator: ", ")))
            }
            if let problem = zip.problem {
                out.append(ScanReason(code: "archive-damaged", weight: .clean, detail: problem))
            }
            if zip.truncated {
                out.append(ScanReason(code: "archive-truncated", weight: .clean, detail: "listed \(zip.entriesRead) of \(zip.declaredEntries) entries"))
            }
        }
        if report.changedDuringScan {
            out.append(ScanReason(code: "changed-during-scan", weight: .suspicious, detail: "the file changed while it was read; scan it again when it is still"))
        }
        return out
    }

    static func bits(_ value: Double) -> String {
        let tenths = Int((value * 100).rounded())
        return "\(tenths / 100).\(tenths % 100 < 10 ? "0" : "")\(tenths % 100)"
    }
}
