import Incidents
import SecurityModel

/// One incident as stored: the case analysts work on.
public struct IncidentRecord: Sendable, Hashable {
    public var id: String
    public var title: String
    public var severity: IncidentSeverity
    public var status: IncidentStatus
    /// Set when it is closed.
    public var resolution: Resolution?
    /// The user name of the analyst who owns it.
    public var assignee: String?
    /// The rule and group of the alert that opened it (later alerts for the same pair join it).
    public var rule: String
    public var groupKey: String
    public var entities: [Entity]
    /// The playbook its tasks were copied from.
    public var playbook: String?
    public var created: Timestamp
    public var updated: Timestamp
    public var acknowledged: Timestamp?
    public var resolved: Timestamp?
    public var closed: Timestamp?
    /// The first and last event of its alerts.
    public var firstTime: Timestamp
    public var lastTime: Timestamp
    public var alertCount: Int
    public var eventCount: Int64
    /// Grows with every change an analyst makes: a change made against an older version is refused.
    public var version: Int
    /// The incident it was merged into (then it is closed as a duplicate).
    public var mergedInto: String?
}

/// One line of an incident's timeline: who changed what, when.
public struct TimelineEntry: Sendable, Hashable {
    public var seq: Int64
    public var time: Timestamp
    public var actor: String
    /// `created`, `alert`, `status`, `severity`, `assignee`, `title`, `merge`, `move`, `task`, `note`.
    public var kind: String
    public var summary: String
    public var before: String?
    public var after: String?
}

/// One playbook task of an incident.
public struct IncidentTask: Sendable, Hashable {
    public var position: Int
    public var title: String
    public var detail: String
    public var state: TaskState
    public var comment: String?
    public var updatedBy: String?
    public var updated: Timestamp?
}

/// One note of an incident (Markdown, rendered by `NoteRenderer`).
public struct IncidentNote: Sendable, Hashable {
    public var seq: Int64
    public var time: Timestamp
    public var author: String
    public var body: String
}
