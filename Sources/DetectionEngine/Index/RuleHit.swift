import SecurityModel

/// An event that matched a detection rule, reduced to what correlations need: time, the event
/// and the symbols (see ``SymbolTable``) of the values of the fields its parent correlations group
/// or aggregate by (``RuleSet`` `carried`). Plain data, copied without reference counting. Hits made by correlations (chaining) never wait in the reorder buffer, so they are
/// not ``RuleHit``s: they go straight to the parents with their evidence.
struct RuleHit: Sendable {
    var timestamp: Timestamp
    var node: Int
    var ref: EventRef
    var values: CarriedSymbols
}

/// A group-by key as one number: nothing (0) without group-by fields, the symbol of a one-field
/// key, two symbols side by side (first in the low half), or for three or more fields the symbol
/// of the list of their values. Keys of one correlation always have the same number of fields,
/// so the forms never meet in one table.
typealias GroupKey = UInt64
