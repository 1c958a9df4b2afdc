import DetectionEngine
import SecurityModel

/// Projects pipeline events onto the engine's compact record: only the fields the loaded rules
/// read, by slot, the rest left out. Built once per rule set.
///
/// Sources name their fields; most name the same ones event after event, so the slot of each
/// name is remembered per field position of the last layout seen (a comparison instead of a hash
/// lookup per field).
public struct SecurityEventProjection: Sendable {
    private let fields: FieldTable
    private let keepRaw: Bool
    private var record: EventRecord
    /// The last layout: field names by position and their slots (-1: no rule reads it).
    private var layoutNames: [String] = []
    private var layoutSlots: [Int] = []

    /// - Parameter rules: the rule set whose fields the records carry.
    public init(rules: RuleSet) {
        fields = rules.fields
        keepRaw = rules.needsRawLine
        record = EventRecord(slotCount: rules.fields.count)
    }

    /// The record for `event`, referenced by its id. The record is reused: copy it to keep it.
    public mutating func project(_ event: SecurityEvent) -> EventRecord {
        record.reset()
        record.timestamp = event.time
        record.logSource = event.source
        record.ref = .id(event.id)
        if keepRaw { record.raw = event.raw }
        if layoutNames.count != event.fields.count { relayout(event) }
        for (position, field) in event.fields.enumerated() {
            if layoutNames[position] != field.name { relayout(event) }
            let slot = layoutSlots[position]
            if slot >= 0 { record[slot] = field.value }
        }
        return record
    }

    private mutating func relayout(_ event: SecurityEvent) {
        layoutNames = event.fields.map(\.name)
        layoutSlots = layoutNames.map { fields.existingSlot($0) ?? -1 }
    }
}
