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

/// A group-by key: the values of the group-by fields, in order.
struct GroupKey: Hashable, Sendable {
    var values: [FieldValue?]
}
