import Foundation
@testable import FileInspection

/// A temporary directory removed when the value goes away.
final class TempDir {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `data` at `relative` (creating folders) and answers the full path.
    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: full))
        return full
    }
}

/// A deterministic byte source for test content.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> ($0 * 8)) & 0xff) } }
func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> ($0 * 8)) & 0xff) } }

extension FileScannerTests {
    /// A 64-bit little-endian ELF header (DYN, x86-64) with two program headers: PT_INTERP
    /// pointing at `interpreter`, and a PT_LOAD that is writable and executable if asked.
    static func elfHeader(interpreter: String?, writableExecutable: Bool) -> [UInt8] {
        var h: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        h += le16(3) + le16(62) + le32(1) + le64(0x1040) + le64(64) + le64(0) + le32(0) + le16(64) + le16(56) + le16(2) + le16(64) + le16(0) + le16(0)
        let interpOffset = 64 + 2 * 56
        // PT_INTERP
        h += le32(interpreter == nil ? 6 : 3) + le32(4) + le64(interpOffset) + le64(0) + le64(0) + le64(interpreter.map { $0.utf8.count + 1 } ?? 0) + le64(0) + le64(1)
        // PT_LOAD, flags R(4) W(2) X(1)
        h += le32(1) + le32(writableExecutable ? 7 : 5) + le64(0) + le64(0) + le64(0) + le64(0x1000) + le64(0x1000) + le64(0x1000)
        if let interpreter { h += Array(interpreter.utf8) + [0] }
        return h
    }

    /// A PE32+ console executable with a code section and a writable, executable `UPX1`, whose
    /// entry point lies in neither.
    static func peFile() -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 0x80)
        f[0] = 0x4d; f[1] = 0x5a
        f.replaceSubrange(0x3c..<0x40, with: le32(0x80))
        f += Array("PE".utf8) + [0, 0]
        f += le16(0x8664) + le16(2) + le32(1_700_000_000) + le32(0) + le32(0) + le16(240) + le16(0x0022)
        var optional = le16(0x20b) + [UInt8](repeating: 0, count: 14) + le32(0x9000)
        optional += [UInt8](repeating: 0, count: 68 - optional.count) + le16(3)
        optional += [UInt8](repeating: 0, count: 240 - optional.count)
        f += optional
        func section(_ name: String, _ address: Int, _ flags: UInt32) -> [UInt8] {
            var s = Array(name.utf8) + [UInt8](repeating: 0, count: 8 - name.utf8.count)
            s += le32(0x1000) + le32(address) + le32(0x200) + le32(0x400) + [UInt8](repeating: 0, count: 12)
            s += (0..<4).map { UInt8((flags >> ($0 * 8)) & 0xff) }
            return s
        }
        f += section(".text", 0x1000, 0x6000_0020)
        f += section("UPX1", 0x2000, 0xE000_0040)
        return f + [UInt8](repeating: 0x90, count: 2048)
    }
}

/// Writes ZIP archives whose central directory says what the test wants (sizes, names), with
/// stored dummy data: the scanner reads the directory and never extracts.
enum ZipBuilder {
    static func make(_ entries: [(name: String, uncompressed: Int, compressed: Int)], sameLocalOffset: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let offset = sameLocalOffset ? 0 : out.count
            let name = Array(entry.name.utf8)
            let data = [UInt8](repeating: 0x41, count: min(entry.compressed, 64))
            if !(sameLocalOffset && !out.isEmpty) {
                out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(8) + le16(0) + le16(0) + le32(0)
                out += le32(entry.compressed) + le32(entry.uncompressed & 0xffff_ffff) + le16(name.count) + le16(0) + name + data
            }
            central += le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(8) + le16(0) + le16(0) + le32(0)
            let big = entry.uncompressed > 0xffff_fffe
            central += le32(entry.compressed) + le32(big ? 0xffff_ffff : entry.uncompressed) + le16(name.count) + le16(big ? 12 : 0) + le16(0)
            central += le16(0) + le16(0) + le32(0) + le32(offset) + name
            if big { central += le16(1) + le16(8) + le64(entry.uncompressed) }
        }
        let directoryOffset = out.count
        out += central
        out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count) + le32(central.count) + le32(directoryOffset) + le16(0)
        return out
    }
}
