/// The names of the fields the loaded rules use, each with a slot number; decoders fill
/// ``EventRecord/values`` by these slots. Names are exact (Sigma field names are case-sensitive).
public struct FieldTable: Sendable, Equatable {
    /// Field names by slot.
    public private(set) var names: [String] = []
    private var slots: [String: Int] = [:]

    public init(_ names: [String] = []) {
        for name in names { _ = slot(for: name) }
    }

    /// The slot for `name`, adding it when new.
    public mutating func slot(for name: String) -> Int {
        if let slot = slots[name] { return slot }
        names.append(name)
        slots[name] = names.count - 1
        return names.count - 1
    }

    /// The slot of `name` if a rule uses it.
    public func existingSlot(_ name: String) -> Int? { slots[name] }

    /// Number of slots.
    public var count: Int { names.count }
}
