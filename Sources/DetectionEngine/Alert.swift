import SecurityModel

/// One alert: a rule fired for a group-by key, from its first to its last event.
///
/// Episode semantics: while a correlation's condition keeps holding for the same key, new events
/// extend the open alert (count, last time, evidence) instead of raising another one.
public struct Alert: Sendable, Hashable {
    /// One group-by field and its value (`nil` when the events lacked the field): the same type
    /// the pipeline publishes.
    public typealias GroupValue = SecurityAlert.GroupValue

    /// Sequence number within the run (1-based, in the order alerts opened).
    public var number: Int
    /// The rule's node index in its ``RuleSet``.
    public var node: Int
    public var rule: RuleInfo
    public var group: [GroupValue]
    public var firstTime: Timestamp
    public var lastTime: Timestamp
    /// Number of events that made the alert fire or extended it.
    public var eventCount: Int
    /// Number of events at which the condition held (1 when it opened, plus one per extension).
    public var holdCount = 1
    /// References to those events (the first ``Alert/maxReferences``).
    public var events: [EventRef]
    /// What a baseline rule saw, in words: the group's history, what was observed, by how much it
    /// deviates, since when (nil for Sigma rules, whose condition says it all).
    public var explanation: String?

    /// Evidence kept per alert; the count goes on beyond it.
    public static let maxReferences = 100

    public var level: Severity { rule.level }

    /// `ip_address=10.0.0.5, username=alice`.
    public var groupDescription: String {
        group.map { "\($0.field)=\($0.value ?? "-")" }.joined(separator: ", ")
    }

    /// The condition held again at `time` with these events: the episode goes on.
    mutating func extend(at time: Timestamp, with refs: Evidence, in store: EvidenceStore) {
        lastTime = time
        holdCount += 1
        eventCount += refs.count
        if events.count < Self.maxReferences {
            store.forEach(refs) { ref in if events.count < Self.maxReferences { events.append(ref) } }
        }
    }

    mutating func addEvidence<S: Sequence>(_ refs: S) where S.Element == EventRef {
        for ref in refs where events.count < Self.maxReferences { events.append(ref) }
    }
}

/// What the engine reports as it runs.
public enum AlertUpdate: Sendable, Hashable {
    /// A new alert (its condition started holding).
    case opened(Alert)
    /// An open alert grew: more events, a later last time (reported only when the engine's
    /// ``DetectionEngine/reportsExtensions`` is on).
    case extended(Alert)
    /// An alert is final: its condition stopped holding, its state expired, or the input ended.
    case closed(Alert)
}
