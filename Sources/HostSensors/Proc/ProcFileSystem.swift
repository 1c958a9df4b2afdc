import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads the kernel's `/proc` (or a copy of it under another root, for tests) with bounded reads:
/// every sensor reads through this, so fixture trees stand in for the live system.
public struct ProcFileSystem: Sendable {
    /// Why a read failed: the path and the reason (a process that vanished, a permission).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// The directory that stands for `/proc`.
    public let root: String

    public init(root: String = "/proc") {
        self.root = root
    }

    /// The bytes of `relative` (such as `net/tcp` or `4242/stat`), at most `maxBytes` of them:
    /// a file longer than that (a huge command line) is cut, never read whole.
    public func read(_ relative: String, maxBytes: Int = 1 << 20) throws(Failure) -> [UInt8] {
        let path = root + "/" + relative
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < maxBytes {
            let wanted = min(chunk.count, maxBytes - bytes.count)
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, reason: String(cString: strerror(errno)))
            }
            if got == 0 { break }
            bytes += chunk[0..<got]
        }
        return bytes
    }

    /// `relative` as text (invalid UTF-8 replaced), at most `maxBytes`.
    public func text(_ relative: String, maxBytes: Int = 1 << 20) throws(Failure) -> String {
        String(decoding: try read(relative, maxBytes: maxBytes), as: UTF8.self)
    }

    /// Where the symbolic link `relative` points (`4242/exe`, `4242/fd/3`), at most 4 KiB of it.
    public func link(_ relative: String) throws(Failure) -> String {
        let path = root + "/" + relative
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        guard length >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        return String(decoding: buffer[0..<length], as: UTF8.self)
    }

    /// The names in the directory `relative` (`4242/fd`), without `.` and `..`.
    public func entries(_ relative: String) throws(Failure) -> [String] {
        let path = root + "/" + relative
        guard let directory = opendir(path) else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// The process ids present now (numeric entries of the root), ascending.
    public func processIDs() -> [Int32] {
        ((try? entries("")) ?? []).compactMap { name in name.first?.isNumber == true ? Int32(name) : nil }.sorted()
    }
}
