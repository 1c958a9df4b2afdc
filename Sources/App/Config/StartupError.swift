/// A problem found while starting SecMon, with what to do about it. `secmon` prints it without a trace.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    /// What is wrong and how to fix it.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
