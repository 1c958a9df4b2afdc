/// An error of the event pipeline, with what to do about it.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Sendable { case cannotOpen, writeFailed, closed }

    /// The kind of failure.
    public var code: Code
    /// What failed and how to fix it.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
