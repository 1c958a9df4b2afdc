/// `/proc/meminfo`, the parts a system monitor shows, in bytes.
public struct MemoryInfo: Sendable, Equatable {
    public var total: UInt64
    public var available: UInt64
    public var swapTotal: UInt64
    public var swapFree: UInt64

    /// Parses the file's text; nil when `MemTotal` or `MemAvailable` is missing.
    public init?(_ text: String) {
        var values: [Substring: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasSuffix(":"), let number = UInt64(parts[1]) else { continue }
            let (scaled, overflow) = number.multipliedReportingOverflow(by: parts.count >= 3 && parts[2] == "kB" ? 1024 : 1)
            values[parts[0].dropLast()] = overflow ? .max : scaled
        }
        guard let total = values["MemTotal"], let available = values["MemAvailable"] else { return nil }
        self.total = total
        self.available = available
        self.swapTotal = values["SwapTotal"] ?? 0
        self.swapFree = values["SwapFree"] ?? 0
    }
}
