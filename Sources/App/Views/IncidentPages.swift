import Incidents
import SecurityModel

/// Leaf contexts of the analyst pages. Every string is escaped by Leaf except `NoteView.html`,
/// which `NoteRenderer` made safe.

struct Option: Encodable {
    var value: String
    var label: String
    var selected: Bool
}

extension Option {
    static func list(_ values: [(String, String)], selected: String?, any: String? = nil) -> [Option] {
        var out: [Option] = []
        if let any { out.append(Option(value: "", label: any, selected: selected == nil || selected == "")) }
        for (value, label) in values { out.append(Option(value: value, label: label, selected: value == selected)) }
        return out
    }
}

struct Pager: Encodable {
    var page: Int
    var pages: Int
    var total: Int
    var newer: String?
    var older: String?

    init(page: Int, pageSize: Int, total: Int, link: (Int) -> String) {
        self.page = page
        self.total = total
        pages = max(1, (total + pageSize - 1) / pageSize)
        newer = page > 1 ? link(page - 1) : nil
        older = page < pages ? link(page + 1) : nil
    }
}

struct IncidentRow: Encodable {
    var id: String
    var shortID: String
    var title: String
    var severity: String
    var status: String
    var statusLabel: String
    var assignee: String
    var alerts: Int
    var events: Int64
    var created: String
    var lastActivity: String
    var resolution: String?

    init(_ incident: IncidentRecord) {
        id = incident.id
        shortID = String(incident.id.suffix(8))
        title = incident.title
        severity = incident.severity.rawValue
        status = incident.status.rawValue
        statusLabel = incident.status.label
        assignee = incident.assignee ?? ""
        alerts = incident.alertCount
        events = incident.eventCount
        created = FormValues.display(incident.created)
        lastActivity = FormValues.display(incident.lastTime)
        resolution = incident.resolution?.label
    }
}

struct MetricRow: Encodable {
    var label: String
    var mtta: String
    var mttr: String
    var acknowledged: Int
    var resolved: Int
}

struct IncidentListContext: Encodable {
    var title = "Incidents"
    var user: LayoutUser
    var incidents: [IncidentRow]
    var statuses: [Option]
    var severities: [Option]
    var assignees: [Option]
    var rule: String
    var since: String
    var until: String
    var pager: Pager
    var open: Int
    /// Overall, last 30 days.
    var mtta: String
    var mttr: String
    var metrics: [MetricRow]
    var ages: [CountTile]
}

struct AlertRowView: Encodable {
    var id: String
    var rule: String
    var title: String
    var level: String
    var group: String
    var status: String
    var first: String
    var last: String
    var events: Int
    var incident: String?
    var incidentShort: String?
    /// What a baseline rule saw, or empty.
    var explanation: String = ""
}

struct AlertListContext: Encodable {
    var title = "Alerts"
    var user: LayoutUser
    var alerts: [AlertRowView]
    var levels: [Option]
    var statuses: [Option]
    var rule: String
    var since: String
    var until: String
    var pager: Pager
}

struct TaskView: Encodable {
    var position: Int
    var title: String
    var detail: String
    var state: String
    var stateLabel: String
    var comment: String?
    var updatedBy: String?
    var updated: String
}

struct NoteView: Encodable {
    var author: String
    var time: String
    /// Safe HTML from `NoteRenderer`.
    var html: String
}

struct TimelineView: Encodable {
    var time: String
    var actor: String
    var kind: String
    var summary: String
    var before: String?
    var after: String?
}

struct EvidenceView: Encodable {
    var eventID: String
    var timestamp: String
    var action: String
    var username: String
    var ipAddress: String
    var request: String
    var status: String
    var userAgent: String
    var attempted: String
}

struct IncidentContext: Encodable {
    var title: String
    var user: LayoutUser
    var incident: IncidentRow
    var version: Int
    var rule: String
    var groupKey: String
    var entities: [String]
    var playbook: String?
    var firstTime: String
    var lastTime: String
    var acknowledged: String
    var resolved: String
    var closed: String
    var mergedInto: String?
    var editable: Bool
    var canTriage: Bool
    var nextStatuses: [Option]
    var resolutions: [Option]
    var severities: [Option]
    var assignees: [Option]
    var mergeTargets: [Option]
    var tasks: [TaskView]
    var tasksDone: Int
    var notes: [NoteView]
    var alerts: [AlertRowView]
    var evidence: [EvidenceView]
    /// Evidence from the host sensors (process starts, connections, listeners, samples).
    var hostEvidence: [HostEvidenceView] = []
    var evidenceTotal: Int
    var timeline: [TimelineView]
    var error: String?
    var notice: String?
    var noteDraft: String
    /// The incident's addresses (what can be blocked from here).
    var addresses: [String]
    /// The accounts it concerns (what can be locked or watched from here).
    var users: [String]
    /// Response actions taken for this incident.
    var responses: [ResponseController.Row]
}

/// One host event among an incident's evidence.
struct HostEvidenceView: Encodable {
    var time: String
    var category: String
    var computer: String
    var user: String
    var image: String
    var pid: String
    var summary: String

    init(_ row: HostEventStore.Row) {
        time = FormValues.display(row.time)
        category = row.category.replacingOccurrences(of: "_", with: " ")
        computer = row.computer
        user = row.user ?? ""
        image = row.image ?? ""
        pid = row.pid.map(String.init) ?? ""
        summary = row.summary
    }
}
