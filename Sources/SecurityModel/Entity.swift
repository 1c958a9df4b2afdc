/// Something an event or an alert is about: an address, an account, a host, a file, a process.
///
/// Entities let later stages (incidents, response, the console) find every event and alert about
/// one thing without knowing which field each source put it in.
public struct Entity: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What kind of thing it is.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case ip, user, host, file, process
    }

    public var kind: Kind
    /// The address, account name, host name, path or process id, as text.
    public var value: String

    public init(_ kind: Kind, _ value: String) {
        self.kind = kind
        self.value = value
    }

    /// `ip:203.0.113.7`.
    public var description: String { "\(kind.rawValue):\(value)" }
}
