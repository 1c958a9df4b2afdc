import Foundation

/// The parts of `/proc/<pid>/status` that `stat` lacks: the real and effective user, and the
/// thread count.
public struct ProcessStatus: Sendable, Equatable {
    public var realUID: UInt32
    public var effectiveUID: UInt32
    public var threads: Int

    /// Parses the file's text; nil without a well-formed `Uid:` line.
    public init?(_ text: String) {
        var uids: [UInt32]?
        var threads = 1
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Uid:") {
                uids = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
            } else if line.hasPrefix("Threads:"), let count = Int(line.dropFirst(8).trimmingCharacters(in: .whitespaces)) {
                threads = count
            }
        }
        guard let uids, uids.count >= 2 else { return nil }
        realUID = uids[0]
        effectiveUID = uids[1]
        self.threads = threads
    }
}
