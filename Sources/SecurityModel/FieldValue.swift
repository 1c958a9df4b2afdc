/// One field's value in a decoded event, typed as the source wrote it (JSON numbers stay numbers).
///
/// Sigma compares strings case-insensitively and integers as numbers; keeping the type lets
/// `status: 404` match both `404` and `"404"` while `path|contains` sees the text.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Present but null (`"field": null`); an absent field is `nil` in an ``EventRecord``.
    case null
    /// A JSON array of scalars; a Sigma value matches when it matches any element.
    case list([FieldValue])

    /// The value as text, the way Sigma string matching sees it (`404`, `true`, `1.5`);
    /// `nil` for null. Lists join their elements with commas.
    public var text: String? {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value):
            if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return nil
        case .list(let values): return values.compactMap(\.text).joined(separator: ",")
        }
    }

    /// The value as a number when it is one, or is text that reads as one (`"404"`, `" 1.5"` is not).
    public var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .string(let value): return Double(value)
        case .bool, .null, .list: return nil
        }
    }

    public var description: String { text ?? "null" }
}
