/// The Sigma field modifiers SecMon supports (`field|contains|all`), applied left to right.
public enum SigmaModifier: String, CaseIterable, Sendable {
    case contains, startswith, endswith, all
    case re, i, m, s
    case cidr, exists, cased, neq
    case lt, lte, gt, gte
    case base64, base64offset
    case utf16le, utf16be, utf16, wide
    case windash, fieldref
    case expand

    /// Modifiers Sigma defines that SecMon rejects, with the reason given to the rule author.
    static let unsupported: [String: String] = [
        "minute": "time-part modifiers are not supported; use a correlation timespan",
        "hour": "time-part modifiers are not supported; use a correlation timespan",
        "day": "time-part modifiers are not supported; use a correlation timespan",
        "week": "time-part modifiers are not supported; use a correlation timespan",
        "month": "time-part modifiers are not supported; use a correlation timespan",
        "year": "time-part modifiers are not supported; use a correlation timespan",
    ]

    /// The list shown in error messages.
    static var supportedList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
