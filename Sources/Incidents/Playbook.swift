/// A response procedure: ordered tasks an analyst works through on an incident.
///
/// Playbooks are templates: administrators edit them in the console, and a new incident gets a
/// copy of the tasks of its rule's playbook (the rule names it with a `playbook:` attribute), so
/// editing a playbook never rewrites the record of incidents already handled.
public struct Playbook: Sendable, Hashable, Codable {
    /// One step.
    public struct Task: Sendable, Hashable, Codable {
        public var title: String
        /// How to do it, where to look (may be empty).
        public var detail: String

        public init(_ title: String, _ detail: String = "") {
            self.title = title
            self.detail = detail
        }
    }

    /// Stable name that rules refer to (`brute-force`).
    public var name: String
    public var title: String
    public var description: String
    public var tasks: [Task]

    public init(name: String, title: String, description: String, tasks: [Task]) {
        self.name = name
        self.title = title
        self.description = description
        self.tasks = tasks
    }

    /// Most tasks a playbook may hold, and most UTF-8 bytes in one task's title and detail.
    public static let maxTasks = 50
    public static let maxTaskBytes = 1024

    /// Reads tasks from the console's text form: one task per line, `title` or `title :: detail`;
    /// blank lines are ignored. Throws a refusal naming the line when a task is too long or there
    /// are too many.
    public static func tasks(fromText text: String) throws(IncidentRefusal) -> [Task] {
        var tasks: [Task] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimming([" ", "\t", "\r"])
            guard !line.isEmpty else { continue }
            guard line.utf8.count <= maxTaskBytes else {
                throw IncidentRefusal(.invalid, field: "tasks", "line \(index + 1) is \(line.utf8.count) bytes; a task may have at most \(maxTaskBytes)")
            }
            let separator = line.firstRange(of: " :: ")
            let title = (separator.map { line[..<$0.lowerBound] } ?? Substring(line)).trimming([" ", "\t"])
            let detail = separator.map { line[$0.upperBound...].trimming([" ", "\t"]) } ?? ""
            guard !title.isEmpty, !line.hasPrefix(":: ") else {
                throw IncidentRefusal(.invalid, field: "tasks", "line \(index + 1) has a detail but no title (write 'title :: detail')")
            }
            tasks.append(Task(title, detail))
        }
        guard tasks.count <= maxTasks else {
            throw IncidentRefusal(.invalid, field: "tasks", "\(tasks.count) tasks; a playbook may have at most \(maxTasks)")
        }
        return tasks
    }

    /// The tasks in the console's text form (inverse of ``tasks(fromText:)``).
    public var tasksText: String {
        tasks.map { $0.detail.isEmpty ? $0.title : "\($0.title) :: \($0.detail)" }.joined(separator: "\n")
    }
}

extension StringProtocol {
    func trimming(_ set: Set<Character>) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
