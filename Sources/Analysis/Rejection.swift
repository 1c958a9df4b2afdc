/// A line that could not be decoded, located for the report.
public struct Rejection: Sendable, Hashable, CustomStringConvertible {
    public var input: String
    public var line: Int64
    public var reason: String

    public var description: String { "\(input):\(line): \(reason)" }
}
