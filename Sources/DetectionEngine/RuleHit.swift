import SecurityModel

/// An event that matched a rule, reduced to what correlations need: time, evidence and the values
/// of the fields its parent correlations group or aggregate by (``RuleSet`` `carried`).
struct RuleHit: Sendable {
    var timestamp: Timestamp
    var node: Int
    /// The event, or for hits made by correlations the events that completed them.
    var evidence: Evidence
    var values: CarriedValues
}

/// A group-by key: the values of the group-by fields, in order. One-field keys (the common
/// case) hold the value itself, so building and hashing a key allocates nothing.
enum GroupKey: Hashable, Sendable {
    case none
    case one(FieldValue)
    case two(FieldValue, FieldValue)
    case many([FieldValue])

    var values: [FieldValue] {
        switch self {
        case .none: return []
        case .one(let value): return [value]
        case .two(let first, let second): return [first, second]
        case .many(let values): return values
        }
    }

    /// The key's values as a hit's carried values (in group-by order).
    var carried: CarriedValues {
        switch self {
        case .none: return CarriedValues()
        case .one(let value): var c = CarriedValues(); c[0] = value; return c
        case .two(let first, let second): var c = CarriedValues(); c[0] = first; c[1] = second; return c
        case .many(let values): return CarriedValues(values)
        }
    }
}
