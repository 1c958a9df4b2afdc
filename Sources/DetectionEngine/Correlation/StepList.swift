/// The steps of a temporal correlation for one key; the first two are held inline (the group
/// stays plain data), the rest in the group's ``WindowState`` (`more`).
struct StepList: Sendable {
    let count: Int
    private var first: SequenceGroup.Step?
    private var second: SequenceGroup.Step?

    init(count: Int) { self.count = count }

    @inline(__always)
    func get(_ index: Int, _ more: [SequenceGroup.Step?]) -> SequenceGroup.Step? {
        switch index {
        case 0: return first
        case 1: return second
        default: return more[index - 2]
        }
    }

    @inline(__always)
    mutating func set(_ index: Int, _ step: SequenceGroup.Step?, _ more: inout [SequenceGroup.Step?]) {
        switch index {
        case 0: first = step
        case 1: second = step
        default: more[index - 2] = step
        }
    }

    func presentCount(_ more: [SequenceGroup.Step?]) -> Int { (0..<count).reduce(0) { $0 + (get($1, more) == nil ? 0 : 1) } }

    mutating func clear(_ more: inout [SequenceGroup.Step?]) {
        first = nil
        second = nil
        for index in more.indices { more[index] = nil }
    }

    /// Drops the steps that began before `oldest`.
    @inline(__always)
    mutating func expire(before oldest: Int64, _ more: inout [SequenceGroup.Step?]) {
        if let start = first?.start, start < oldest { first = nil }
        if let start = second?.start, start < oldest { second = nil }
        for index in more.indices { if let start = more[index]?.start, start < oldest { more[index] = nil } }
    }
}
