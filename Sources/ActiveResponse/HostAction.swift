/// What a rule's policy may do on the host itself, once, for an alert: end the process it names,
/// or move the file it names into quarantine. Unlike a ``ResponseKind`` these are not entries in
/// force for a time: a terminated process stays ended, and a quarantined file stays out of reach
/// until a person restores it (Files › Quarantine), which is its undo.
public enum HostAction: String, CaseIterable, Sendable, Hashable, Codable {
    /// `SIGTERM`, then `SIGKILL` after the grace period, to the alert's process (its `process`
    /// entity: a PID, checked to be the process the alert saw).
    case terminate
    /// The alert's file (its `file` entity: an absolute path outside the system's directories)
    /// moved into quarantine with its hash, owner and mode.
    case quarantine

    /// What the policy does, in words ("terminate the process").
    public var summary: String {
        switch self {
        case .terminate: "terminate the process"
        case .quarantine: "quarantine the file"
        }
    }

    /// The verb shown on timelines ("Terminated process 4242").
    public var pastTense: String {
        switch self {
        case .terminate: "Terminated"
        case .quarantine: "Quarantined"
        }
    }
}
