import DequeModule

/// What a group's state holds that grows with its events: the sliding window of a count or value
/// type beyond the newest events a ``CountGroup`` holds itself (times and weights, the values for
/// the value types, the newest events' references), and the steps of a sequence beyond its first
/// two. Kept in a pool by ``GroupTable`` and reused when a group is removed, so a key that comes
/// and goes does not allocate each time.
struct WindowState: Sendable {
    /// Newer events of the window (with the group's inline ones, up to ``Alert/maxReferences``),
    /// with their references.
    var recent: Deque<CountGroup.Recent> = []
    /// The window's older events, time and weight only (a flood costs 16 bytes per event).
    var older: Deque<CountGroup.Stamp> = []
    /// Parallel to the window's events (`older`, then `recent`) for the value types.
    var valued: Deque<CountGroup.Valued> = []
    /// Value count: how many events in the window have each value (by symbol).
    var distinct: [UInt32: Int] = [:]
    /// Steps `2...` of a temporal correlation of more than two rules.
    var moreSteps: [SequenceGroup.Step?] = []

    /// Events held here.
    var count: Int { older.count + recent.count }
    var isEmpty: Bool { older.isEmpty && recent.isEmpty }

    /// A window of a group with `stepCount` steps (0: a count or value type).
    init(stepCount: Int = 0) {
        if stepCount > 2 { moreSteps = Array(repeating: nil, count: stepCount - 2) }
    }

    /// Empties the window for reuse by a group with `stepCount` steps. Small buffers are kept;
    /// those a flood made large are given back.
    mutating func reset(stepCount: Int) {
        let keep = 256
        if !older.isEmpty { older.removeAll(keepingCapacity: older.count <= keep) }
        if !recent.isEmpty { recent.removeAll(keepingCapacity: recent.count <= 32) }
        if !valued.isEmpty { valued.removeAll(keepingCapacity: valued.count <= keep) }
        if !distinct.isEmpty { distinct.removeAll(keepingCapacity: distinct.count <= keep) }
        let more = max(0, stepCount - 2)
        if moreSteps.count != more {
            moreSteps = Array(repeating: nil, count: more)
        } else if more > 0 {
            for index in moreSteps.indices { moreSteps[index] = nil }
        }
    }
}
