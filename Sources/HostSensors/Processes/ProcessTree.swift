/// Processes arranged by parent: what the console's tree view walks.
public struct ProcessTree: Sendable {
    /// One row of the tree in display order: the process and how deep it sits.
    public struct Row: Sendable {
        public var process: HostProcess
        public var depth: Int
    }

    /// Every process once, parents before their children, siblings by pid. A process whose
    /// parent is not in the list (pid 1, kthreadd, one whose parent just ended) is a root.
    public let rows: [Row]

    public init(_ processes: [HostProcess]) {
        let present = Set(processes.map(\.pid))
        var children: [Int32: [HostProcess]] = [:]
        var roots: [HostProcess] = []
        for process in processes {
            if process.parent != process.pid, present.contains(process.parent) {
                children[process.parent, default: []].append(process)
            } else {
                roots.append(process)
            }
        }
        var rows: [Row] = []
        rows.reserveCapacity(processes.count)
        var visited = Set<Int32>()
        // Iterative depth-first walk (a deep chain of shells must not overflow the stack).
        var stack: [(HostProcess, Int)] = roots.sorted { $0.pid > $1.pid }.map { ($0, 0) }
        while let (process, depth) = stack.popLast() {
            guard visited.insert(process.pid).inserted else { continue }
            rows.append(Row(process: process, depth: depth))
            for child in (children[process.pid] ?? []).sorted(by: { $0.pid > $1.pid }) { stack.append((child, depth + 1)) }
        }
        // A parent cycle (impossible in a real table, possible in a bad capture) leaves processes
        // unreached: show them as roots rather than lose them.
        for process in processes where !visited.contains(process.pid) {
            visited.insert(process.pid)
            rows.append(Row(process: process, depth: 0))
        }
        self.rows = rows
    }
}
