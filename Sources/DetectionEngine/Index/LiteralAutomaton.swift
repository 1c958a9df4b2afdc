/// Finds which of many literals occur in a text, in one pass over its bytes: an Aho-Corasick
/// automaton compiled to a dense table of transitions over byte classes, ASCII letters compared
/// case-insensitively.
///
/// Each literal has a *mark* (a small integer: the rule it screens for); a pass reports the marks
/// of the literals found. Bytes that occur in no literal share one class, so the table has as many
/// columns as the literals have distinct bytes (plus one), not 256.
///
/// Invariants (relied on by ``scan(_:_:)``, which reads the tables without bounds checks):
/// - `table.count == stateCount * classCount`; entry `t` leads to state `(t >> 1) / classCount`
///   (a state is stored as the offset of its row, so a step costs no multiplication), and its low
///   bit says whether that state or one on its failure chain ends a literal;
/// - `classes` has 256 entries, each `< classCount`;
/// - `outputStarts.count == stateCount + 1`, non-decreasing, ending at `outputs.count`;
/// - `dictionaryLink[s]` is a state `< stateCount`, or -1.
final class LiteralAutomaton: Sendable {
    /// Byte -> column (ASCII upper case folded to lower case; bytes in no literal -> 0).
    private let classes: [UInt8]
    private let classCount: Int
    /// `table[state * classCount + class]`: the next state's row offset times two, plus one when
    /// it emits (the root is 0).
    private let table: [Int32]
    /// Marks of the literals that end at each state (`outputs[outputStarts[s]..<outputStarts[s + 1]]`).
    private let outputs: [Int32]
    private let outputStarts: [Int32]
    /// The nearest state on the failure chain with outputs of its own, or -1.
    private let dictionaryLink: [Int32]
    /// Number of states.
    let stateCount: Int

    /// Compiles `literals` (non-empty byte strings; ASCII letters in any case) with their marks.
    init(_ literals: [(bytes: [UInt8], mark: Int32)]) {
        var classes = Array(repeating: UInt8(0), count: 256)
        var count = 1
        for (bytes, _) in literals {
            for byte in bytes where classes[Int(Self.fold(byte))] == 0 {
                classes[Int(Self.fold(byte))] = UInt8(truncatingIfNeeded: count)
                count += 1
            }
        }
        // Upper-case ASCII letters take their lower case's class.
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { classes[Int(byte)] = classes[Int(byte | 0x20)] }
        precondition(count <= 256)
        self.classes = classes
        self.classCount = count

        // The trie, as a sparse map per state while building.
        var children: [[UInt8: Int32]] = [[:]]
        var ends: [[Int32]] = [[]]
        for (bytes, mark) in literals where !bytes.isEmpty {
            var state = 0
            for byte in bytes {
                let column = classes[Int(byte)]
                if let next = children[state][column] {
                    state = Int(next)
                } else {
                    children.append([:]); ends.append([])
                    let next = Int32(children.count - 1)
                    children[state][column] = next
                    state = Int(next)
                }
            }
            if !ends[state].contains(mark) { ends[state].append(mark) }
        }
        let states = children.count
        self.stateCount = states
        // Row offsets times two must fit in an `Int32` (callers bound the size far below this).
        precondition(states.multipliedReportingOverflow(by: count).partialValue < 1 << 30, "literal automaton too large")

        // Breadth first: failure links, then each state's row completed from its failure's row.
        var table = Array(repeating: Int32(0), count: states * count)
        var failure = Array(repeating: Int32(0), count: states)
        var dictionaryLink = Array(repeating: Int32(-1), count: states)
        var emits = Array(repeating: false, count: states)
        var queue: [Int32] = []
        queue.reserveCapacity(states)
        for (column, child) in children[0] {
            table[Int(column)] = child
            queue.append(child)
        }
        emits[0] = !ends[0].isEmpty
        var head = 0
        while head < queue.count {
            let state = Int(queue[head]); head += 1
            let fail = Int(failure[state])
            dictionaryLink[state] = !ends[fail].isEmpty ? Int32(fail) : dictionaryLink[fail]
            emits[state] = !ends[state].isEmpty || dictionaryLink[state] >= 0
            let row = state * count, failRow = fail * count
            for column in 0..<count { table[row + column] = table[failRow + column] }
            for (column, child) in children[state] {
                failure[Int(child)] = table[failRow + Int(column)]
                table[row + Int(column)] = child
                queue.append(child)
            }
        }
        // Rows as offsets, with the emit bit: what ``scan`` reads.
        for index in table.indices {
            let next = Int(table[index])
            table[index] = Int32(truncatingIfNeeded: (next * count) << 1 | (emits[next] ? 1 : 0))
        }
        self.table = table
        self.dictionaryLink = dictionaryLink
        var outputs: [Int32] = [], starts: [Int32] = [0]
        for state in 0..<states {
            outputs += ends[state]
            starts.append(Int32(outputs.count))
        }
        self.outputs = outputs
        self.outputStarts = starts
    }

    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Calls `found` with the mark of each literal occurrence in `bytes` (a mark may be reported
    /// more than once).
    @inline(__always)
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ found: (Int32) -> Void) {
        guard let base = bytes.baseAddress else { return }
        classes.withUnsafeBufferPointer { classes in
            table.withUnsafeBufferPointer { table in
                var row = 0
                for offset in 0..<bytes.count {
                    let entry = Int(table[row &+ Int(classes[Int(base[offset])])])
                    row = entry >> 1
                    if entry & 1 != 0 { report(row / classCount, found) }
                }
            }
        }
    }

    /// Reports the outputs of `state` and of its dictionary links.
    private func report(_ start: Int, _ found: (Int32) -> Void) {
        var state = start
        while state >= 0 {
            for index in Int(outputStarts[state])..<Int(outputStarts[state + 1]) { found(outputs[index]) }
            state = Int(dictionaryLink[state])
        }
    }
}
