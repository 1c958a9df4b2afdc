import Foundation
import OpenAPIKit
import SecurityModel

/// The OpenAPI 3.1 document of API v1, served at `/api/v1/openapi.json`. One table of endpoints
/// (below) makes it; a test checks that it lists exactly the `/api/v1` routes the server has, and
/// that answers match their schemas.
enum APIDocument {
    struct Endpoint {
        var method: OpenAPI.HttpMethod
        /// OpenAPI form: `/api/v1/incidents/{id}`.
        var path: String
        var summary: String
        var role: Role
        var query: [(name: String, description: String)] = []
        /// The schema component of the JSON body, if any.
        var body: String?
        /// The schema component of the successful answer.
        var response: String
        var status: Int = 200
    }

    static let listQuery: [(name: String, description: String)] = [
        ("limit", "items per page (1 to 200; 1 to 1000 for events)"),
        ("cursor", "the next_cursor of the page before"),
    ]
    static let incidentFilters: [(name: String, description: String)] = [
        ("status", "open (any unresolved) or one status"), ("severity", "low, medium, high or critical"),
        ("rule", "rule id, such as D-01"), ("assignee", "a user name, or - for unassigned"),
        ("since", "created at or after (2026-12-01, 2026-12-01T08:30 or ISO 8601; UTC)"), ("until", "created before"),
    ]

    static let endpoints: [Endpoint] = [
        .init(method: .get, path: "/api/v1/incidents", summary: "List incidents, newest first", role: .viewer,
              query: incidentFilters + listQuery, response: "IncidentPage"),
        .init(method: .get, path: "/api/v1/incidents/{id}", summary: "One incident with its tasks, notes, timeline and alert ids", role: .viewer,
              response: "IncidentDetail"),
        .init(method: .post, path: "/api/v1/incidents/{id}/status", summary: "Change the status (closing needs a resolution)", role: .analyst,
              body: "StatusChange", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/severity", summary: "Set the severity", role: .analyst, body: "SeverityChange", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/assign", summary: "Assign to an analyst or admin (null: nobody)", role: .analyst,
              body: "Assignment", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/title", summary: "Rename", role: .analyst, body: "TitleChange", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/merge", summary: "Merge into another incident (closes this one as a duplicate)",
              role: .analyst, body: "Target", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/alerts/{alert}/move", summary: "Move one alert to another incident", role: .analyst,
              body: "Target", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/notes", summary: "Add a Markdown note", role: .analyst, body: "NoteInput", response: "Incident"),
        .init(method: .post, path: "/api/v1/incidents/{id}/tasks/{position}", summary: "Tick, skip or reopen a playbook task", role: .analyst,
              body: "TaskChange", response: "Incident"),
        .init(method: .get, path: "/api/v1/alerts", summary: "List alerts, newest activity first", role: .viewer,
              query: [("level", "a Sigma level"), ("status", "open or closed"), ("rule", "rule id"), ("since", "active at or after"), ("until", "began before")] + listQuery,
              response: "AlertPage"),
        .init(method: .get, path: "/api/v1/events", summary: "Search the stored events, newest first", role: .analyst,
              query: [("q", "text in user, tried user name, address, path or user agent"), ("ip", "address"), ("user", "user name"),
                      ("action", "LOGIN_FAILURE, API_REQUEST, ..."), ("path", "path prefix"), ("since", "at or after"), ("until", "before"),
                      ("event", "one event id")] + listQuery,
              response: "EventPage"),
        .init(method: .get, path: "/api/v1/audit", summary: "The audit trail, newest first", role: .admin,
              query: [("actor", "actor name"), ("action", "action prefix, such as incident."), ("target", "target prefix"),
                      ("since", "at or after"), ("until", "before")] + listQuery,
              response: "AuditPage"),
        .init(method: .get, path: "/api/v1/playbooks", summary: "The playbook templates", role: .viewer, response: "PlaybookList"),
        .init(method: .post, path: "/api/v1/playbooks/{name}", summary: "Replace a playbook's title, description and tasks", role: .admin,
              body: "PlaybookInput", response: "PlaybookList"),
        .init(method: .get, path: "/api/v1/rules", summary: "The live rules", role: .viewer, response: "RuleList"),
        .init(method: .post, path: "/api/v1/rules/validate", summary: "Read the rule directory as a reload would, without switching", role: .admin,
              response: "RuleValidation"),
        .init(method: .post, path: "/api/v1/rules/reload", summary: "Reload the live rules (refused with the errors when they have any)", role: .admin,
              response: "RuleReload"),
        .init(method: .get, path: "/api/v1/health", summary: "The pipeline's health and counters", role: .viewer, response: "Health"),
        .init(method: .get, path: "/api/v1/tokens", summary: "The API tokens (never the tokens themselves)", role: .admin, response: "TokenList"),
        .init(method: .post, path: "/api/v1/tokens", summary: "Create a token; the answer holds it, once", role: .admin, body: "TokenInput",
              response: "Token", status: 201),
        .init(method: .post, path: "/api/v1/tokens/{id}/revoke", summary: "Revoke a token at once", role: .admin, response: "Token"),
        .init(method: .get, path: "/api/v1/blocks", summary: "The blocks in force", role: .analyst, response: "BlockList"),
        .init(method: .post, path: "/api/v1/blocks", summary: "Block a source address or network (refused for the allowlist and your own address)",
              role: .analyst, body: "BlockInput", response: "Block", status: 201),
        .init(method: .post, path: "/api/v1/blocks/{id}/undo", summary: "Lift a block in force", role: .analyst, response: "Block"),
        .init(method: .get, path: "/api/v1/responses", summary: "Response actions: in force (state=active, the default) or the newest 500 (state=all)",
              role: .analyst, query: [("kind", "block, ratelimit, lock, watch or allow"), ("state", "active or all")], response: "ResponseActionList"),
        .init(method: .post, path: "/api/v1/responses",
              summary: "Block, rate-limit, lock, watch or allowlist (allowlist: admins); refused for allowlisted targets and your own address or account",
              role: .analyst, body: "ResponseActionInput", response: "ResponseAction", status: 201),
        .init(method: .post, path: "/api/v1/responses/{id}/edit", summary: "Change how long an action in force lasts (minutes from now), or its reason",
              role: .analyst, body: "ResponseActionEdit", response: "ResponseAction"),
        .init(method: .post, path: "/api/v1/responses/{id}/undo", summary: "Undo an action in force", role: .analyst, response: "ResponseAction"),
        .init(method: .get, path: "/api/v1/response-policies", summary: "Each rule's automatic response", role: .analyst, response: "ResponsePolicyList"),
        .init(method: .post, path: "/api/v1/response-policies/{rule}", summary: "Set a rule's automatic response (version 0 for a rule without one)",
              role: .admin, body: "ResponsePolicyInput", response: "ResponsePolicy"),
        .init(method: .get, path: "/api/v1/host/system", summary: "This host's latest reading (CPU, memory, disks, interfaces) and the sensors' counters",
              role: .viewer, response: "HostSystem"),
        .init(method: .get, path: "/api/v1/host/metrics", summary: "The metric history: a point per minute for a day, per 15 minutes before",
              role: .viewer, query: [("range", "1h (default), 24h or 7d")], response: "HostMetrics"),
        .init(method: .get, path: "/api/v1/host/processes", summary: "The processes of the latest reading", role: .analyst,
              query: [("sort", "cpu (default), memory, pid, name, user or start"), ("q", "text in the name, command line, user or executable, or a pid"),
                      ("limit", "1 to 5000 (default 50)")], response: "HostProcessList"),
        .init(method: .get, path: "/api/v1/host/sockets", summary: "The sockets of the latest reading, with their owning processes", role: .analyst,
              query: [("state", "all (default), listening or connected"), ("pid", "one process's"), ("q", "an address or port")], response: "HostSocketList"),
        .init(method: .get, path: "/api/v1/host/events", summary: "The host sensors' events, newest first", role: .analyst,
              query: [("category", "process_creation, network_connection, network_listen, host_metrics, file_event or antivirus"), ("limit", "1 to 1000 (default 50)")],
              response: "HostEventList"),
        .init(method: .get, path: "/api/v1/files/integrity", summary: "File integrity: watched paths, ignore patterns, the baseline, the open changes and the last check",
              role: .analyst, response: "FileIntegrityStatus"),
        .init(method: .get, path: "/api/v1/files/integrity/changes", summary: "Changes found by file integrity checks, newest first", role: .analyst,
              query: [("status", "open (default) or all"), ("limit", "1 to 1000 (default 200)")], response: "FileChangeList"),
        .init(method: .post, path: "/api/v1/files/integrity/check", summary: "Check the watched paths now (records the baseline when there is none)",
              role: .admin, response: "FileIntegrityCheck"),
        .init(method: .post, path: "/api/v1/files/integrity/changes/{id}/accept", summary: "Accept an open change: its new state becomes the baseline",
              role: .admin, response: "FileChangeRecord"),
        .init(method: .get, path: "/api/v1/files/scans", summary: "The scanner's history, newest first", role: .analyst,
              query: [("limit", "1 to 500 (default 50)")], response: "FileScanList"),
        .init(method: .get, path: "/api/v1/files/scans/{id}", summary: "One scan's full report", role: .analyst, response: "FileScan"),
        .init(method: .post, path: "/api/v1/files/scans",
              summary: "Scan the request body (application/octet-stream, streamed; name it with ?name=); answers the report", role: .analyst,
              query: [("name", "the file's name, for the history")], response: "FileScan", status: 201),
        .init(method: .get, path: "/api/v1/host/score", summary: "The host's latest threat score, with every contribution", role: .viewer,
              response: "ThreatScore"),
        .init(method: .post, path: "/api/v1/host/processes/{pid}/terminate",
              summary: "Terminate a process (TERM, then KILL after the grace period); start_ticks from /api/v1/host/processes identifies it", role: .admin,
              body: "TerminateInput", response: "TerminateResult"),
        .init(method: .get, path: "/api/v1/files/quarantine", summary: "The files in quarantine", role: .admin, response: "QuarantineList"),
        .init(method: .get, path: "/api/v1/sources", summary: "The log files followed live (--tail): state, position and counts", role: .analyst,
              response: "SourceList"),
        .init(method: .post, path: "/api/v1/files/quarantine", summary: "Quarantine a file by path (201; 200 with dry_run in a dry run)", role: .admin,
              body: "QuarantineInput", response: "QuarantineResult", status: 201),
        .init(method: .post, path: "/api/v1/files/quarantine/{id}/restore", summary: "Restore a quarantined file exactly where it was", role: .admin,
              response: "QuarantineResult"),
        .init(method: .post, path: "/api/v1/tools/dns", summary: "Ask DNS about a name (A, AAAA, MX, TXT) or an address (PTR)", role: .admin,
              body: "DNSQuery", response: "DNSAnswer"),
        .init(method: .post, path: "/api/v1/tools/port", summary: "Check a TCP port of a loopback or allowlisted target", role: .admin,
              body: "PortQuery", response: "PortAnswer"),
        .init(method: .post, path: "/api/v1/tools/url", summary: "Analyse a URL's text (nothing is fetched)", role: .admin,
              body: "URLQuery", response: "URLAnswer"),
        .init(method: .get, path: "/api/v1/openapi.json", summary: "This document", role: .viewer, response: "OpenAPIDocument"),
    ]

    // MARK: Schemas

    static func ref(_ name: String) -> JSONSchema { .reference(.component(named: name)) }
    static let time = JSONSchema.string(format: .dateTime)
    static let optionalTime = JSONSchema.string(format: .dateTime, required: false, nullable: true)
    static let optionalString = JSONSchema.string(required: false, nullable: true)
    static let entity = JSONSchema.object(properties: ["kind": .string(allowedValues: .init(stringLiteral: "ip"), "user", "host", "file", "process"), "value": .string])

    static let schemas: OpenAPI.ComponentDictionary<JSONSchema> = [
        "Incident": .object(properties: [
            "id": .string, "title": .string, "severity": .string(allowedValues: "low", "medium", "high", "critical"),
            "status": .string(allowedValues: "new", "acknowledged", "investigating", "contained", "resolved", "closed"),
            "resolution": .string(required: false, nullable: true, allowedValues: "true-positive", "false-positive", "benign", "duplicate", nil),
            "assignee": optionalString, "rule": .string, "group": .string, "entities": .array(items: entity), "playbook": optionalString,
            "created_at": time, "updated_at": time, "acknowledged_at": optionalTime, "resolved_at": optionalTime, "closed_at": optionalTime,
            "first_seen": time, "last_seen": time, "alert_count": .integer, "event_count": .integer,
            "version": .integer(description: "send it back with a change: a change against an older version is refused (409)"),
            "merged_into": optionalString,
        ]),
        "IncidentPage": .object(properties: ["incidents": .array(items: ref("Incident")), "total": .integer, "next_cursor": optionalString]),
        "IncidentDetail": .object(properties: [
            "incident": ref("Incident"),
            "tasks": .array(items: .object(properties: [
                "position": .integer, "title": .string, "detail": .string, "state": .string(allowedValues: "open", "done", "skipped"),
                "comment": optionalString, "updated_by": optionalString, "updated_at": optionalTime,
            ])),
            "notes": .array(items: .object(properties: ["author": .string, "time": time, "body": .string(description: "Markdown")])),
            "timeline": .array(items: .object(properties: [
                "time": time, "actor": .string, "kind": .string, "summary": .string, "before": optionalString, "after": optionalString,
            ])),
            "alert_ids": .array(items: .string),
        ]),
        "StatusChange": .object(properties: [
            "status": .string(allowedValues: "new", "acknowledged", "investigating", "contained", "resolved", "closed"),
            "resolution": .string(required: false, nullable: true, allowedValues: "true-positive", "false-positive", "benign", "duplicate", nil),
            "version": .integer,
        ], additionalProperties: .init(false)),
        "SeverityChange": .object(properties: ["severity": .string(allowedValues: "low", "medium", "high", "critical"), "version": .integer],
                                  additionalProperties: .init(false)),
        "Assignment": .object(properties: ["assignee": optionalString, "version": .integer], additionalProperties: .init(false)),
        "TitleChange": .object(properties: ["title": .string(maxLength: 200), "version": .integer], additionalProperties: .init(false)),
        "Target": .object(properties: ["target": .string(description: "the other incident's id"), "version": .integer], additionalProperties: .init(false)),
        "NoteInput": .object(properties: ["body": .string(description: "Markdown, at most 16 KiB")], additionalProperties: .init(false)),
        "TaskChange": .object(properties: ["state": .string(allowedValues: "open", "done", "skipped"), "comment": optionalString],
                              additionalProperties: .init(false)),
        "AlertPage": .object(properties: [
            "alerts": .array(items: .object(properties: [
                "id": .string, "rule": .string, "title": .string, "level": .string, "group": .string, "entities": .array(items: entity),
                "first_seen": time, "last_seen": time, "event_count": .integer, "events": .array(items: .string),
                "status": .string(allowedValues: "open", "closed"), "node": .string, "incident": optionalString,
            ])),
            "total": .integer, "next_cursor": optionalString,
        ]),
        "EventPage": .object(properties: [
            "events": .array(items: .object(properties: [
                "event_id": .string, "timestamp": .string, "ip_address": .string, "username": .string, "action": .string,
                "method": optionalString, "path": optionalString, "status": .integer(required: false, nullable: true),
                "user_agent": optionalString, "duration_ms": .number(required: false, nullable: true),
            ])),
            "next_cursor": optionalString,
        ]),
        "AuditPage": .object(properties: [
            "entries": .array(items: .object(properties: [
                "seq": .integer, "time": time, "actor": .string, "actor_kind": .string(allowedValues: "user", "system"),
                "source_ip": optionalString, "action": .string, "target": .string, "before": optionalString, "after": optionalString,
            ])),
            "next_cursor": optionalString,
        ]),
        "PlaybookTask": .object(properties: ["title": .string, "detail": .string]),
        "PlaybookList": .object(properties: [
            "playbooks": .array(items: .object(properties: [
                "name": .string, "title": .string, "description": .string, "tasks": .array(items: ref("PlaybookTask")),
                "version": .integer, "updated_by": .string, "updated_at": time,
            ])),
        ]),
        "PlaybookInput": .object(properties: ["title": .string, "description": .string, "tasks": .array(items: ref("PlaybookTask")), "version": .integer],
                                 additionalProperties: .init(false)),
        "RuleList": .object(properties: [
            "detection": .boolean, "path": optionalString,
            "rules": .array(items: .object(properties: [
                "id": .string, "title": .string, "kind": .string(allowedValues: "detection", "correlation", "baseline"), "level": .string,
                "playbook": optionalString, "raises_alerts": .boolean, "file": .string, "line": .integer,
            ])),
        ]),
        "RuleValidation": .object(properties: ["valid": .boolean, "rules": .integer, "errors": .array(items: .string), "warnings": .array(items: .string)]),
        "RuleReload": .object(properties: [
            "status": .string, "rules": .integer(required: false), "kept": .array(required: false, items: .string),
            "reset": .array(required: false, items: .string), "closed_alerts": .integer(required: false), "errors": .array(items: .string),
        ]),
        "Health": .object(properties: ["status": .string(allowedValues: "ok", "degraded"), "warnings": .array(items: .string)],
                          additionalProperties: .init(true)),
        "Token": .object(properties: [
            "id": .string, "name": .string, "role": .string(allowedValues: "viewer", "analyst", "admin"), "prefix": .string,
            "state": .string(allowedValues: "active", "expired", "revoked"), "created_by": .string, "created_at": time, "expires_at": time,
            "last_used_at": optionalTime, "last_used_ip": optionalString,
            "token": .string(required: false, description: "the token itself: only in the answer to its creation"),
        ]),
        "TokenList": .object(properties: ["tokens": .array(items: ref("Token"))]),
        "HostSystem": .object(properties: [
            "system": .object(properties: [
                "time": .integer(description: "microseconds since the epoch"), "hostname": .string,
                "cpu_percent": .number(required: false, nullable: true), "core_percents": .array(items: .number(nullable: true)),
                "memory_total_bytes": .integer, "memory_available_bytes": .integer, "swap_total_bytes": .integer, "swap_free_bytes": .integer,
                "uptime_seconds": .number, "process_count": .integer,
                "disks": .array(items: .object(properties: [
                    "mount_point": .string, "device": .string, "file_system": .string, "total_bytes": .integer, "used_bytes": .integer, "available_bytes": .integer,
                ])),
                "interfaces": .array(items: .object(properties: [
                    "name": .string, "received_bytes_per_second": .number, "sent_bytes_per_second": .number, "received_bytes": .integer,
                    "sent_bytes": .integer, "errors": .integer,
                ])),
            ], additionalProperties: .init(true)),
            "sensors": .object(properties: ["readings": .integer, "events": .integer, "refused": .integer, "cpu_seconds": .number, "running_seconds": .number],
                               additionalProperties: .init(true)),
        ]),
        "HostMetrics": .object(properties: [
            "computer": .string, "range": .string(allowedValues: "1h", "24h", "7d"),
            "points": .array(items: .object(properties: [
                "time": .integer(description: "start, microseconds since the epoch"), "seconds": .integer(description: "60, or 900 once merged"),
                "samples": .integer, "cpu_percent": .number, "cpu_peak_percent": .number, "memory_percent": .number,
                "swap_percent": .number, "disk_percent": .number, "load1": .number, "received_bytes_per_second": .number, "sent_bytes_per_second": .number,
                "processes": .number,
            ])),
        ]),
        "HostProcessList": .object(properties: [
            "time": time, "total": .integer,
            "processes": .array(items: .object(properties: [
                "pid": .integer, "parent": .integer, "uid": .integer, "user": .string, "name": .string, "command_line": .string,
                "command_line_truncated": .boolean, "executable": optionalString, "executable_deleted": .boolean, "current_directory": optionalString,
                "state": .string, "cpu_percent": .number, "resident_bytes": .integer, "virtual_bytes": .integer,
                "start_time": .integer(description: "microseconds since the epoch"),
                "start_ticks": .integer(description: "clock ticks after boot: with pid, what terminate takes to name this process"), "threads": .integer, "socket_count": .integer, "kernel_thread": .boolean,
            ])),
        ]),
        "HostSocketList": .object(properties: [
            "time": time,
            "sockets": .array(items: .object(properties: [
                "protocol": .string(allowedValues: "tcp", "tcp6", "udp", "udp6"), "local_address": .string, "local_port": .integer,
                "remote_address": .string, "remote_port": .integer, "state": .string, "uid": .integer, "inode": .integer,
                "pid": .integer(required: false, nullable: true), "process": optionalString,
            ])),
        ]),
        "HostEventList": .object(properties: [
            "events": .array(items: .object(properties: [
                "id": .string, "time": time, "category": .string(allowedValues: "process_creation", "network_connection", "network_listen", "host_metrics", "file_event", "antivirus"),
                "computer": .string, "image": optionalString, "pid": .integer(required: false, nullable: true), "user": optionalString, "summary": .string,
                "fields": .object(description: "the event's fields under Sigma's names, as in logs/host.log", additionalProperties: .init(true)),
            ])),
        ]),
        "FileState": .object(properties: [
            "path": .string, "kind": .string(allowedValues: "file", "directory", "symlink", "fifo", "socket", "char-device", "block-device", "unknown"),
            "sha256": optionalString, "size": .integer, "mode": .integer(description: "permission bits, with setuid, setgid and sticky"),
            "uid": .integer, "gid": .integer, "mtime_nanos": .integer, "inode": .integer, "link_target": optionalString,
        ]),
        "FileChangeRecord": .object(properties: [
            "id": .string, "path": .string, "kind": .string(allowedValues: "added", "modified", "deleted", "permissions"),
            "attributes": .array(items: .string), "content_changed": .boolean,
            "old": .one(of: ref("FileState"), .null(), required: false), "new": .one(of: ref("FileState"), .null(), required: false),
            "detected_at": time, "status": .string(allowedValues: "open", "accepted", "superseded"),
            "resolved_by": optionalString, "resolved_at": optionalTime,
        ]),
        "FileChangeList": .object(properties: ["changes": .array(items: ref("FileChangeRecord"))]),
        "FileIntegrityStatus": .object(properties: [
            "paths": .array(items: .string), "ignore": .array(items: .string), "baseline_paths": .integer, "baseline_recorded_at": optionalTime,
            "open_changes": .integer, "schedule_seconds": .number(required: false, nullable: true),
            "last_check": .one(of: ref("FileIntegrityCheck"), .null(), required: false),
        ]),
        "FileIntegrityCheck": .object(properties: [
            "checked_at": time, "by": .string, "paths": .integer, "baseline_recorded": .boolean, "differing": .integer,
            "new_changes": .array(items: ref("FileChangeRecord")), "unreadable": .array(items: .string), "seconds": .number,
        ]),
        "FileScanSummary": .object(properties: [
            "id": .string, "time": time, "name": .string, "source": .string, "scanned_by": .string, "size": .integer, "sha256": .string,
            "type": .string, "verdict": .string(allowedValues: "clean", "suspicious", "malicious"), "summary": .string,
        ]),
        "FileScanList": .object(properties: ["scans": .array(items: ref("FileScanSummary"))]),
        "ThreatScore": .object(properties: [
            "computed_at": time, "level": .string(allowedValues: "low", "elevated", "high", "critical"),
            "score": .object(properties: [
                "total": .number, "weighted": .number,
                "floor": .object(required: false, properties: ["value": .number, "evidence": .string, "alert_id": optionalString]),
                "factors": .array(items: .object(properties: [
                    "factor": .string(allowedValues: "system", "process", "network", "file_integrity"), "weight": .number, "points": .number,
                    "capped": .number, "weighted": .number,
                    "contributions": .array(items: .object(properties: ["points": .number, "evidence": .string, "alert_id": optionalString])),
                ])),
            ]),
        ]),
        "TerminateInput": .object(properties: ["start_ticks": .integer]),
        "TerminateResult": .object(properties: [
            "pid": .integer, "name": .string, "outcome": .string(allowedValues: "terminated", "killed", "already_gone", "dry_run"), "summary": .string,
        ]),
        "QuarantineRecord": .object(properties: [
            "id": .string, "path": .string, "sha256": .string, "size": .integer, "mode": .integer, "uid": .integer, "gid": .integer,
            "mtime_seconds": .integer, "mtime_nanoseconds": .integer, "quarantined_at": .integer, "by": .string,
        ]),
        "SourceList": .object(properties: ["files": .array(items: .object(properties: [
            "path": .string, "format": .string(allowedValues: "activity", "json", "access", "syslog"), "state": .string, "following": .boolean,
            "offset": .integer, "size": .integer, "lines": .integer, "events": .integer, "rejected": .integer, "oversized": .integer,
            "rotations": .integer, "truncations": .integer, "last_rejection": .string(required: false), "last_event": .string(required: false),
        ]))]),
        "QuarantineList": .object(properties: ["files": .array(items: ref("QuarantineRecord")), "directory": .string]),
        "QuarantineInput": .object(properties: ["path": .string]),
        "QuarantineResult": .object(properties: ["dry_run": .boolean, "file": .object(required: false, properties: [
            "id": .string, "path": .string, "sha256": .string, "size": .integer, "mode": .integer, "uid": .integer, "gid": .integer,
            "mtime_seconds": .integer, "mtime_nanoseconds": .integer, "quarantined_at": .integer, "by": .string,
        ])]),
        "DNSQuery": .object(properties: ["name": .string, "type": .string(allowedValues: "A", "AAAA", "MX", "TXT", "PTR")]),
        "DNSAnswer": .object(properties: [
            "query": .string, "name": .string, "type": .string, "server": .string, "status": .string, "truncated": .boolean, "milliseconds": .integer,
            "records": .array(items: .object(properties: ["name": .string, "type": .string, "ttl": .integer, "data": .string])),
        ]),
        "PortQuery": .object(properties: ["host": .string, "port": .integer(maximum: (65535, exclusive: false), minimum: (1, exclusive: false))]),
        "PortAnswer": .object(properties: [
            "host": .string, "address": .string, "port": .integer, "state": .string(allowedValues: "open", "closed", "filtered"),
            "milliseconds": .integer, "banner": .string,
        ]),
        "URLQuery": .object(properties: ["url": .string]),
        "URLAnswer": .object(properties: [
            "verdict": .string(allowedValues: "clean", "suspicious", "malicious"),
            "analysis": .object(properties: [
                "input": .string, "scheme": .string, "host": .string, "host_unicode": .string, "host_ascii": .string,
                "host_kind": .string(allowedValues: "domain", "ipv4", "ipv6", "none"), "registrable_domain": .string,
                "path": .string, "query": .string, "fragment": .string,
                "reasons": .array(items: .object(properties: [
                    "code": .string, "weight": .string(allowedValues: "clean", "suspicious", "malicious"), "detail": .string,
                ])),
            ], additionalProperties: .init(true)),
        ]),
        "FileScan": .object(properties: [
            "id": .string, "time": time, "source": .string, "scanned_by": .string,
            "report": .object(properties: [
                "name": .string, "size": .integer, "type": .string, "verdict": .string(allowedValues: "clean", "suspicious", "malicious"),
                "digests": .object(properties: ["md5": .string, "sha1": .string, "sha256": .string]),
                "entropy": .object(additionalProperties: .init(true)), "strings": .object(additionalProperties: .init(true)),
                "changed_during_scan": .boolean, "yara": .string,
                "reasons": .array(items: .object(properties: [
                    "code": .string, "weight": .string(allowedValues: "clean", "suspicious", "malicious"), "detail": .string,
                ])),
            ], additionalProperties: .init(true)),
        ]),
        "TokenInput": .object(properties: [
            "name": .string(maxLength: 64), "role": .string(allowedValues: "viewer", "analyst", "admin"),
            "days": .integer(required: false, maximum: (366, exclusive: false), minimum: (1, exclusive: false)),
        ], additionalProperties: .init(false)),
        "Block": .object(properties: [
            "id": .string, "target": .string(description: "an address, or a network in CIDR notation"), "reason": .string,
            "incident": optionalString, "actor": .string, "created_at": time, "expires_at": optionalTime,
            "state": .string(allowedValues: "in-force", "expired", "undone"), "undone_by": optionalString,
        ]),
        "BlockList": .object(properties: ["blocks": .array(items: ref("Block")), "refused_requests": .integer]),
        "BlockInput": .object(properties: [
            "target": .string(maxLength: 64), "minutes": .integer(maximum: (527_040, exclusive: false), minimum: (1, exclusive: false)),
            "reason": .string(maxLength: 500), "incident": optionalString,
        ], additionalProperties: .init(false)),
        "ResponseAction": .object(properties: [
            "id": .string, "kind": .string(allowedValues: "block", "ratelimit", "lock", "watch", "allow"),
            "target": .string(description: "an address, a network in CIDR notation, or user:NAME"), "reason": .string,
            "rule": optionalString, "alert": optionalString, "incident": optionalString, "actor": .string, "created_at": time, "expires_at": optionalTime,
            "state": .string(allowedValues: "in-force", "expired", "undone", "dry-run"), "undone_by": optionalString,
            "rate": .integer(required: false, nullable: true), "dry_run": .boolean,
        ]),
        "ResponseActionList": .object(properties: [
            "actions": .array(items: ref("ResponseAction")), "refused_requests": .integer, "limited_requests": .integer,
        ]),
        "ResponseActionInput": .object(properties: [
            "kind": .string(allowedValues: "block", "ratelimit", "lock", "watch", "allow"), "target": .string(maxLength: 80),
            "minutes": .integer(required: false, maximum: (527_040, exclusive: false), minimum: (1, exclusive: false)),
            "reason": .string(maxLength: 500), "incident": optionalString,
            "rate": .integer(required: false, maximum: (100_000, exclusive: false), minimum: (1, exclusive: false)),
        ], additionalProperties: .init(false)),
        "ResponseActionEdit": .object(properties: [
            "minutes": .integer(required: false, maximum: (527_040, exclusive: false), minimum: (1, exclusive: false)),
            "reason": .string(required: false, maxLength: 500),
        ], additionalProperties: .init(false)),
        "ResponsePolicy": .object(properties: [
            "rule": .string, "actions": .array(items: .string(allowedValues: "block", "ratelimit", "lock", "watch", "terminate", "quarantine")), "minutes": .integer,
            "escalation": .integer, "max_minutes": .integer, "rate": .integer, "dry_run": .boolean, "enabled": .boolean, "version": .integer,
            "updated_by": .string, "updated_at": time, "summary": .string,
        ]),
        "ResponsePolicyList": .object(properties: ["policies": .array(items: ref("ResponsePolicy")), "dry_run": .boolean]),
        "ResponsePolicyInput": .object(properties: [
            "actions": .array(items: .string(allowedValues: "block", "ratelimit", "lock", "watch", "terminate", "quarantine")),
            "minutes": .integer(maximum: (527_040, exclusive: false), minimum: (1, exclusive: false)),
            "escalation": .integer(required: false, maximum: (10, exclusive: false), minimum: (1, exclusive: false)),
            "max_minutes": .integer(required: false, maximum: (527_040, exclusive: false), minimum: (1, exclusive: false)),
            "rate": .integer(required: false, maximum: (100_000, exclusive: false), minimum: (1, exclusive: false)),
            "dry_run": .boolean(required: false), "enabled": .boolean(required: false), "version": .integer,
        ], additionalProperties: .init(false)),
        "OpenAPIDocument": .object(properties: ["openapi": .string], additionalProperties: .init(true)),
        "Problem": .object(description: "RFC 9457 problem details", properties: [
            "type": .string, "title": .string, "status": .integer, "detail": .string, "instance": .string,
            "field": .string(required: false, description: "the parameter or body field at fault"),
        ]),
    ]

    // MARK: The document

    static func document() -> OpenAPI.Document {
        var items: OrderedDictionary<OpenAPI.Path, OpenAPI.PathItem> = [:]
        let problem = Either<OpenAPI.Reference<OpenAPI.Content>, OpenAPI.Content>(OpenAPI.Content(schema: ref("Problem")))
        let problemType = OpenAPI.ContentType(rawValue: "application/problem+json")!
        for endpoint in endpoints {
            var parameters: OpenAPI.Parameter.Array = []
            for component in endpoint.path.split(separator: "/") where component.hasPrefix("{") {
                let name = String(component.dropFirst().dropLast())
                parameters.append(.parameter(.path(name: name, schema: name == "position" ? .integer : .string)))
            }
            for (name, description) in endpoint.query {
                parameters.append(.parameter(.query(name: name, schema: .string(required: false), description: description)))
            }
            var responses: OpenAPI.Response.Map = [
                .status(code: endpoint.status): .response(OpenAPI.Response(description: "success", content: [.json: .init(OpenAPI.Content(schema: ref(endpoint.response)))])),
                .status(code: 401): .response(OpenAPI.Response(description: "no session or token, or a revoked, expired or malformed token", content: [problemType: problem])),
                .status(code: 403): .response(OpenAPI.Response(description: "the role may not do this (or a session's CSRF token is missing)", content: [problemType: problem])),
            ]
            if !endpoint.query.isEmpty || endpoint.body != nil || endpoint.path.contains("{") {
                responses[.status(code: 400)] = .response(OpenAPI.Response(description: "a parameter or body field cannot be used (named in `field`)", content: [problemType: problem]))
            }
            if endpoint.path.contains("{") {
                responses[.status(code: 404)] = .response(OpenAPI.Response(description: "no such item", content: [problemType: problem]))
            }
            if endpoint.method == .post {
                responses[.status(code: 409)] = .response(OpenAPI.Response(description: "conflicts with the current state (a stale version, an illegal transition)", content: [problemType: problem]))
            }
            let operation = OpenAPI.Operation(
                tags: [String(endpoint.path.split(separator: "/")[2])], summary: endpoint.summary,
                description: "Needs the \(endpoint.role.rawValue) role (a session of that role, or a token of it).",
                parameters: parameters,
                requestBody: endpoint.body.map { OpenAPI.Request(content: [.json: .init(OpenAPI.Content(schema: ref($0)))], required: true) },
                responses: responses)
            let path = OpenAPI.Path(rawValue: endpoint.path)
            var item = items[path] ?? OpenAPI.PathItem()
            item[endpoint.method] = operation
            items[path] = item
        }
        let schemes: OpenAPI.ComponentReferenceDictionary<OpenAPI.SecurityScheme> = [
            "token": .b(.init(type: .http(scheme: "bearer", bearerFormat: "smt_…"), description: "An API token, made by an administrator (Tokens page or POST /api/v1/tokens)")),
            "session": .b(.init(type: .apiKey(name: "secmon_session", location: .cookie),
                                description: "A browser session; state-changing requests also need its CSRF token in X-CSRF-Token")),
        ]
        return OpenAPI.Document(
            openAPIVersion: .v3_1_1,
            info: .init(title: "SecMon API", description: "Alerts, incidents and their actions, events, playbooks, the audit trail, rules and health. Errors are RFC 9457 problem documents (application/problem+json).",
                        version: "1"),
            servers: [], paths: items.mapValues { .pathItem($0) },
            components: .init(schemas: schemas, securitySchemes: schemes),
            security: [[.component(named: "token"): []], [.component(named: "session"): []]])
    }

    /// The document as served (encoded once).
    static let json: Data = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(document())) ?? Data("{}".utf8)
    }()
}
