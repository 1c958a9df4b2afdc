import EventPipeline
import Incidents
import SecurityModel
import Vapor

extension Timestamp {
    /// ISO 8601 in UTC with microseconds and a `Z`, as API v1 writes times.
    var api: String { iso8601 + "Z" }
}

/// The JSON shapes of API v1 (snake_case; times are ISO 8601 UTC with microseconds).
enum APIViews {
    struct EntityView: Content, Equatable {
        var kind: String
        var value: String
    }

    struct Incident: Content {
        var id: String
        var title: String
        var severity: String
        var status: String
        var resolution: String?
        var assignee: String?
        var rule: String
        var group: String
        var entities: [EntityView]
        var playbook: String?
        var createdAt: String
        var updatedAt: String
        var acknowledgedAt: String?
        var resolvedAt: String?
        var closedAt: String?
        var firstSeen: String
        var lastSeen: String
        var alertCount: Int
        var eventCount: Int64
        var version: Int
        var mergedInto: String?

        enum CodingKeys: String, CodingKey {
            case id, title, severity, status, resolution, assignee, rule, group, entities, playbook, version
            case createdAt = "created_at", updatedAt = "updated_at", acknowledgedAt = "acknowledged_at", resolvedAt = "resolved_at"
            case closedAt = "closed_at", firstSeen = "first_seen", lastSeen = "last_seen", alertCount = "alert_count"
            case eventCount = "event_count", mergedInto = "merged_into"
        }

        init(_ incident: IncidentRecord) {
            id = incident.id
            title = incident.title
            severity = incident.severity.rawValue
            status = incident.status.rawValue
            resolution = incident.resolution?.rawValue
            assignee = incident.assignee
            rule = incident.rule
            group = incident.groupKey
            entities = incident.entities.map { EntityView(kind: $0.kind.rawValue, value: $0.value) }
            playbook = incident.playbook
            createdAt = incident.created.api
            updatedAt = incident.updated.api
            acknowledgedAt = incident.acknowledged?.api
            resolvedAt = incident.resolved?.api
            closedAt = incident.closed?.api
            firstSeen = incident.firstTime.api
            lastSeen = incident.lastTime.api
            alertCount = incident.alertCount
            eventCount = incident.eventCount
            version = incident.version
            mergedInto = incident.mergedInto
        }
    }

    struct Task: Content {
        var position: Int
        var title: String
        var detail: String
        var state: String
        var comment: String?
        var updatedBy: String?
        var updatedAt: String?
        enum CodingKeys: String, CodingKey {
            case position, title, detail, state, comment, updatedBy = "updated_by", updatedAt = "updated_at"
        }
    }

    struct Note: Content {
        var author: String
        var time: String
        /// Markdown as written.
        var body: String
    }

    struct TimelineLine: Content {
        var time: String
        var actor: String
        var kind: String
        var summary: String
        var before: String?
        var after: String?
    }

    struct IncidentDetail: Content {
        var incident: Incident
        var tasks: [Task]
        var notes: [Note]
        var timeline: [TimelineLine]
        var alertIDs: [String]
        enum CodingKeys: String, CodingKey { case incident, tasks, notes, timeline, alertIDs = "alert_ids" }
    }

    struct IncidentPage: Content {
        var incidents: [Incident]
        var total: Int
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case incidents, total, nextCursor = "next_cursor" }
    }
}
