/// A correlation `timespan` (`30s`, `5m`, `1h`, `1d`), in microseconds.
public struct Timespan: Hashable, Sendable, CustomStringConvertible {
    public var microseconds: Int64
    /// The text it was parsed from.
    public var text: String

    public init(microseconds: Int64, text: String) {
        self.microseconds = microseconds
        self.text = text
    }

    /// Parses `<number><s|m|h|d>`; `nil` for anything else.
    public init?(_ text: String) {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        default: return nil
        }
        guard number <= 3650 * 86_400 / seconds else { return nil }
        self.microseconds = number * seconds * 1_000_000
        self.text = text
    }

    public var description: String { text }

    /// `microseconds` in the largest unit that divides it (`7d`, `90m`, `45s`), for messages.
    public static func text(microseconds: Int64) -> String {
        let seconds = microseconds / 1_000_000
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
