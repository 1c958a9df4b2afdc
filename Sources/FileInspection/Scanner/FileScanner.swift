import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scans one file in a single streaming pass: digests, entropy and strings over fixed-size
/// chunks, the type and ELF/PE headers from its first bytes, a ZIP's central directory read from
/// its end, then the assessment and any matchers (YARA). Memory stays at a few MiB whatever the
/// file's size.
///
/// Invariant: the only buffers are the chunk (`chunkSize`), the head (`headBytes`) and the ZIP
/// directory (`ZipListing.Limits.maxDirectoryBytes`); nothing grows with the file.
public struct FileScanner: Sendable {
    public struct Options: Sendable {
        public var chunkSize = 1 << 20
        /// Bytes kept from the start for type and header parsing.
        public var headBytes = 64 * 1024
        public var zipLimits = ZipListing.Limits()
        /// Bytes per entropy block.
        public var entropyBlock = 64 * 1024
        /// Called on the scanning thread after each chunk, with the bytes read so far (progress
        /// for a long scan; the tests change a file here to see the scanner notice).
        public var progress: (@Sendable (UInt64) -> Void)?

        public init() {}
    }

    public var options: Options
    public var assessment: ScanAssessment
    public var patterns: [StringPattern]
    public var matchers: [any FileMatcher]

    public init(options: Options = Options(), indicators: FileIndicators = FileIndicators(),
                patterns: [StringPattern] = StringPattern.bundled, matchers: [any FileMatcher] = []) {
        self.options = options
        self.assessment = ScanAssessment(indicators: indicators, zipLimits: options.zipLimits)
        self.patterns = patterns
        self.matchers = matchers
    }

    /// Scans the file at `path` (symbolic links followed, as `sha256sum` does), shown as `name`.
    /// FIFOs, devices, sockets and directories are refused before a byte is read.
    public func scan(path: String, name: String? = nil) throws(FileScanError) -> ScanReport {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw FileScanError(path: path, reason: FileState.describeErrno(errno)) }
        defer { close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0 else { throw FileScanError(path: path, reason: FileState.describeErrno(errno)) }
        guard before.st_mode & S_IFMT == S_IFREG else {
            throw FileScanError(path: path, reason: "not a regular file (\(FileKind(mode: before.st_mode).label)); only regular files are scanned")
        }
        // Reads block normally from here on.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        let expected = Int(clamping: before.st_size)
        let side = SideStage(entropy: EntropyMeter(blockSize: options.entropyBlock, expectedSize: expected))
        defer { side.stop() }
        var shas = DigestAccumulator.SHAPart()
        var strings = StringsScanner(patterns: patterns)
        var head: [UInt8] = []
        head.reserveCapacity(options.headBytes)
        var total: UInt64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: options.chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let got = read(fd, buffer.baseAddress, buffer.count)
            if got < 0 {
                if errno == EINTR { continue }
                throw FileScanError(path: path, reason: "read failed after \(total) bytes: " + FileState.describeErrno(errno))
            }
            if got == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<got])
            if head.count < options.headBytes { head.append(contentsOf: chunk.prefix(options.headBytes - head.count)) }
            // Two halves of about equal cost, one per core: MD5 and entropy on the side thread,
            // the SHAs and strings here.
            side.start(chunk)
            shas.update(chunk)
            strings.update(chunk)
            side.wait()
            total += UInt64(got)
            options.progress?(total)
        }
        var after = stat()
        let changed = fstat(fd, &after) != 0 || after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec
            || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || total != UInt64(clamping: before.st_size)
        var type = FileType.detect(head)
        var zip: ZipListing?
        if type == .zip {
            zip = readZip(fd: fd, size: total)
            if let flavour = zip?.flavour { type = flavour }
        }
        var report = ScanReport(
            name: name ?? path, size: total, type: type,
            digests: { let (sha1, sha256) = shas.finalize(); return FileDigests(md5: side.md5.finalize(), sha1: sha1, sha256: sha256) }(),
            entropy: side.entropy.finish(),
            strings: strings.finish(), elf: type == .elf ? ELFHeader.parse(head) : nil, pe: type == .pe ? PEHeader.parse(head) : nil,
            zip: zip, changedDuringScan: changed)
        report.reasons = assessment.reasons(for: report)
        var stages: [String] = []
        for matcher in matchers {
            report.reasons += matcher.reasons(path: path, report: report)
            stages.append(matcher.summary)
        }
        report.yara = stages.isEmpty ? "off" : stages.joined(separator: "; ")
        return report
    }

    /// The central directory of the ZIP open on `fd`, read from the end with `pread`.
    private func readZip(fd: Int32, size: UInt64) -> ZipListing {
        let tailLength = Int(min(size, UInt64(65_535 + 22 + 20 + 56)))
        guard let tail = readAt(fd: fd, offset: size - UInt64(tailLength), count: tailLength) else {
            return ZipListing(problem: "could not read the archive's end")
        }
        guard let location = ZipDirectoryLocation.find(tail: tail, fileSize: size) else {
            return ZipListing(problem: "no end-of-directory record: the archive is damaged or not a ZIP")
        }
        let limits = options.zipLimits
        let wanted = Int(min(location.size, UInt64(limits.maxDirectoryBytes)))
        guard let directory = readAt(fd: fd, offset: location.offset, count: wanted) else {
            return ZipListing(problem: "could not read the central directory at byte \(location.offset)")
        }
        return ZipListing.parse(directory: directory, declared: location.entries, complete: UInt64(wanted) == location.size, limits: limits)
    }

    private func readAt(fd: Int32, offset: UInt64, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0 { if errno == EINTR { continue }; return nil }
            if got == 0 { break }
            done += got
        }
        return done == count ? bytes : Array(bytes[0..<done])
    }
}

/// A second thread for half of each chunk's work (MD5 and entropy), handed chunks with a
/// semaphore. Invariant: between `start` and `wait` only the side thread touches `md5`,
/// `entropy` and the chunk; outside them only the caller does (the semaphores order the two).
private final class SideStage: @unchecked Sendable {
    var md5 = DigestAccumulator.MD5Part()
    var entropy: EntropyMeter
    private var chunk: UnsafeRawBufferPointer?
    private var stopping = false
    private let go = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init(entropy: EntropyMeter) {
        self.entropy = entropy
        let thread = Thread { [self] in
            while true {
                go.wait()
                if stopping { break }
                if let chunk = self.chunk {
                    self.md5.update(chunk)
                    self.entropy.update(chunk)
                }
                done.signal()
            }
        }
        thread.name = "secmon-scan-side"
        thread.start()
    }

    func start(_ chunk: UnsafeRawBufferPointer) {
        self.chunk = chunk
        go.signal()
    }

    func wait() { done.wait() }

    /// Ends the thread (after the last `wait`).
    func stop() {
        stopping = true
        go.signal()
    }
}

extension ZipListing {
    init(problem: String) {
        self.init()
        self.problem = problem
    }
}
