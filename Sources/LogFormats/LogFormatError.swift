/// Why a line could not be decoded. The decoder's caller adds where (file and line number).
public struct LogFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable identifier for the kind of problem, for counting rejections by reason.
    public enum Code: String, Sendable {
        case invalidJSON = "invalid_json"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case badTimestamp = "bad_timestamp"
    }

    /// The kind of problem.
    public var code: Code
    /// What is wrong, in words.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
