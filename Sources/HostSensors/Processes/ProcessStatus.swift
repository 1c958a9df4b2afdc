import Foundation

/// The parts of `/proc/<pid>/status` that `stat` lacks: the real and effective user, and the
/// thread count.
public struct ProcessStatus: Sendable, Equatable {
    public var realUID: UInt32
    public var effectiveUID: UInt32
    public var threads: Int

    public init(realUID: UInt32, effectiveUID: UInt32, threads: Int) {
        self.realUID = realUID
        self.effectiveUID = effectiveUID
        self.threads = threads
    }

    /// Parses the file's text; nil without a well-formed `Uid:` line. Reads bytes: no Foundation
    /// and no generic instantiation at run time (the first of which costs a scan of every
    /// protocol conformance in the binary, milliseconds in `secmon host snapshot`).
    public init?(_ text: String) {
        var uids: [UInt32] = []
        var sawUID = false
        var threads = 1
        var copy = text
        let parsed: Bool = copy.withUTF8 { bytes in
            var lineStart = 0
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                if Self.hasPrefix(line, "Uid:") {
                    sawUID = true
                    uids = Self.numbers(UnsafeBufferPointer(rebasing: line[4...]))
                } else if Self.hasPrefix(line, "Threads:"), let count = Self.numbers(UnsafeBufferPointer(rebasing: line[8...])).first {
                    threads = Int(count)
                }
                lineStart = lineEnd + 1
            }
            return sawUID
        }
        guard parsed, uids.count >= 2 else { return nil }
        realUID = uids[0]
        effectiveUID = uids[1]
        self.threads = threads
    }

    private static func hasPrefix(_ line: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        guard line.count >= prefix.utf8CodeUnitCount else { return false }
        for index in 0..<prefix.utf8CodeUnitCount where line[index] != prefix.utf8Start[index] { return false }
        return true
    }

    /// The unsigned decimal numbers separated by blanks; a word that is not one (or overflows)
    /// ends the list.
    private static func numbers(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt32] {
        var values: [UInt32] = []
        var current: UInt32 = 0
        var inNumber = false
        for byte in bytes {
            if byte == 0x20 || byte == 0x09 {
                if inNumber { values.append(current); current = 0; inNumber = false }
            } else if byte >= 0x30 && byte <= 0x39 {
                let (times, overflow1) = current.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt32(byte - 0x30))
                guard !overflow1, !overflow2 else { return values }
                current = sum
                inNumber = true
            } else {
                return values
            }
        }
        if inNumber { values.append(current) }
        return values
    }
}
