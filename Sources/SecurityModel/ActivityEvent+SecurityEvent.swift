extension ActivityEvent {
    /// The pipeline's form of this event: the activity log's field names (`ip_address`,
    /// `username`, `action`, `attempted_username`, ...) in the log's order, on the activity stream,
    /// about its client address and user (the attempted user name for a failed login).
    public var securityEvent: SecurityEvent {
        var fields: [SecurityEvent.Field] = [
            .init("ip_address", .string(ipAddress)),
            .init("username", .string(username)),
            .init("action", .string(action.rawValue)),
            .init("taskName", .null),
            .init("event_id", .string(eventID)),
        ]
        fields.reserveCapacity(13)
        func add(_ name: String, _ value: String?) { if let value { fields.append(.init(name, .string(value))) } }
        add("user_id", userID)
        add("session_id", sessionRef)
        add("method", method)
        add("path", path)
        if let status { fields.append(.init("status", .int(Int64(status)))) }
        add("user_agent", userAgent)
        if let durationMs { fields.append(.init("duration_ms", .double(durationMs))) }
        add("attempted_username", attemptedUsername)
        var entities = [Entity(.ip, ipAddress)]
        if username != Self.anonymous { entities.append(Entity(.user, username)) }
        if let attemptedUsername, attemptedUsername != username { entities.append(Entity(.user, attemptedUsername)) }
        return SecurityEvent(time: timestamp, id: eventID, source: .activity, fields: fields, entities: entities)
    }
}
