import SecurityModel

/// An event that matched a rule, reduced to what correlations need: time, evidence and the values
/// of the fields its parent correlations group or aggregate by (``RuleSet`` `carried`).
struct RuleHit: Sendable {
    var timestamp: Timestamp
    var node: Int
    var ref: EventRef
    /// Further evidence, for hits made by correlations (the events that completed them).
    var moreRefs: [EventRef]
    var values: [FieldValue?]
    /// Arrival order, so that equal timestamps keep input order.
    var sequence: Int

    var refs: [EventRef] { [ref] + moreRefs }
}

/// A group-by key: the values of the group-by fields, in order. One-field keys (the common
/// case) hold the value itself, so building and hashing a key allocates nothing.
enum GroupKey: Hashable, Sendable {
    case none
    case one(FieldValue)
    case many([FieldValue])

    var values: [FieldValue] {
        switch self {
        case .none: return []
        case .one(let value): return [value]
        case .many(let values): return values
        }
    }
}
