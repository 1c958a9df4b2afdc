/// Checks a chained log file (``LogChain``) from its first line to its last, and that it still
/// holds the anchors SecMon recorded for it.
public enum LogVerification {
    /// Reads `path` (plain or gzip) and answers what ``LogChain/Verifier`` found. A line longer
    /// than 1 MiB is counted as unchained.
    /// - Throws: ``LineReader/Failure`` when the file cannot be read.
    public static func verify(path: String, anchors: [(id: String, sequence: UInt64, hash: String)] = []) throws -> LogChain.Verifier.Report {
        var verifier = LogChain.Verifier()
        let reader = try LineReader(path: path)
        try reader.forEach { item in
            switch item {
            case .line(let line): verifier.feed(Array(line))
            case .oversized: verifier.feed(Array("oversized".utf8))
            }
        }
        verifier.check(anchors: anchors)
        return verifier.report
    }
}
