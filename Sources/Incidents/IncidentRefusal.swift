/// Why a change to an incident (or playbook, or filter) was refused: which field, and why, in
/// words an analyst can act on. The web layer answers `kind`'s status with the message.
public struct IncidentRefusal: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// 400: the value cannot be used (unknown status, text too long, bad time).
        case invalid
        /// 404: no such incident, alert, task or playbook.
        case notFound
        /// 409: the change conflicts with the incident's current state (an illegal transition, a
        /// stale version, merging an incident into itself).
        case conflict
    }

    public var kind: Kind
    /// The form field or parameter at fault (`status`, `version`, `body`).
    public var field: String
    public var reason: String

    public init(_ kind: Kind, field: String, _ reason: String) {
        self.kind = kind
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
