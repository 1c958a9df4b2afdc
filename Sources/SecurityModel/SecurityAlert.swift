/// An alert as the pipeline publishes it and the stores keep it: a rule fired for a group, from
/// its first to its last event.
///
/// Published when it opens, each time its episode grows, and when it closes; every publication
/// carries the whole current state under the same ``id``, so a consumer may keep only the newest.
public struct SecurityAlert: Sendable, Hashable {
    /// Whether the rule's condition still holds.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Still holding: later events may extend it.
        case open
        /// Final: its condition stopped holding, its window emptied, or the pipeline stopped.
        case closed
    }

    /// One `group-by` field and its value (`nil` when the events lacked it).
    public struct GroupValue: Sendable, Hashable {
        public var field: String
        public var value: String?
        public init(field: String, value: String?) {
            self.field = field
            self.value = value
        }
    }

    /// Stable id (a version 7 UUID made when the alert opened): the same through every update,
    /// and after a restart.
    public var id: String
    /// The rule's label: its name, else its id, else its title (`D-01`).
    public var rule: String
    public var title: String
    public var level: Severity
    /// The `group-by` fields and their values, in the rule's order (empty for single-event rules).
    public var group: [GroupValue]
    /// What the alert is about (from its group: addresses, users, hosts).
    public var entities: [Entity]
    public var firstTime: Timestamp
    public var lastTime: Timestamp
    /// Events that made it fire or extended it.
    public var eventCount: Int
    /// Ids of those events (the first ones, up to the engine's evidence cap).
    public var evidence: [String]
    public var status: Status
    /// The `secmon serve` node that raised it.
    public var node: String
    /// The playbook its rule names (`brute-force`), if any.
    public var playbook: String?
    /// Why its level is not its rule's (an address or user on the watchlist), if it is not.
    public var note: String?
    /// What a baseline rule saw, in words (the group's history, the deviation, since when); nil
    /// for Sigma rules.
    public var explanation: String?

    public init(id: String, rule: String, title: String, level: Severity, group: [GroupValue], entities: [Entity],
                firstTime: Timestamp, lastTime: Timestamp, eventCount: Int, evidence: [String], status: Status, node: String,
                playbook: String? = nil) {
        self.playbook = playbook
        self.id = id
        self.rule = rule
        self.title = title
        self.level = level
        self.group = group
        self.entities = entities
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.eventCount = eventCount
        self.evidence = evidence
        self.status = status
        self.node = node
    }

    /// `ip_address=10.0.0.5, username=alice` (`-` for a missing value).
    public var groupDescription: String {
        group.map { "\($0.field)=\($0.value ?? "-")" }.joined(separator: ", ")
    }

    /// About how many bytes the alert holds in memory (for bounded queues).
    public var estimatedBytes: Int {
        var total = 256 + id.utf8.count + rule.utf8.count + title.utf8.count + node.utf8.count + (note?.utf8.count ?? 0)
            + (explanation?.utf8.count ?? 0)
        for value in group { total &+= 32 &+ value.field.utf8.count &+ (value.value?.utf8.count ?? 0) }
        for entity in entities { total &+= 24 &+ entity.value.utf8.count }
        for id in evidence { total &+= 16 &+ id.utf8.count }
        return total
    }
}

extension Entity.Kind {
    /// The kind of entity a field of this name holds, for the field names SecMon's sources and
    /// Sigma's taxonomy use (`ip_address`, `c-ip`, `source.ip`, `username`, `User`, `Computer`, ...).
    public init?(field name: String) {
        let lower = name.lowercased()
        let last = lower.split(separator: ".").last.map(String.init) ?? lower
        switch last {
        case "ip_address", "ip", "c-ip", "source_ip", "src_ip", "srcip", "client_ip", "clientip", "remote_addr",
             "sourceip", "destinationip", "dst_ip", "destination_ip", "ipaddress":
            self = .ip
        case "username", "user", "user_name", "cs-username", "attempted_username", "targetusername", "subjectusername",
             "account", "accountname":
            self = .user
        case "host", "hostname", "computer", "computername", "workstation", "workstationname":
            self = .host
        case "file", "filename", "targetfilename", "file_path", "filepath":
            self = .file
        case "pid", "processid", "process", "image":
            self = .process
        default:
            return nil
        }
    }
}
