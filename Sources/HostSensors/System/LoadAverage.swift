/// `/proc/loadavg`: the run-queue averages over 1, 5 and 15 minutes.
public struct LoadAverage: Sendable, Codable, Equatable {
    public var one: Double
    public var five: Double
    public var fifteen: Double

    /// Parses `0.51 2.34 2.79 1/80 13741`; nil when the three averages are not there.
    public init?(_ text: String) {
        let parts = text.split(separator: " ").prefix(3).compactMap { Double($0) }.filter(\.isFinite)
        guard parts.count == 3 else { return nil }
        (one, five, fifteen) = (parts[0], parts[1], parts[2])
    }
}
