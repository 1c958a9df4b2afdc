import Foundation
import Incidents
import SecurityModel

/// What an action applies to: an address or network, or a user account. Written `192.0.2.7`,
/// `2001:db8::/48` or `user:alice` (user names never contain `:`); a bare name is a user where
/// the kind takes only users.
public enum ResponseTarget: Sendable, Hashable, CustomStringConvertible {
    case network(CIDRBlock)
    case user(String)

    /// Which targets a kind accepts.
    public enum Accepted: Sendable {
        case addresses, users, either
    }

    /// Longest target text, in UTF-8 bytes.
    public static let maxBytes = 80

    /// Parses `text` for `kind`, or refuses naming the field `target` and the forms accepted.
    public init(parsing text: String, for kind: ResponseKind) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= Self.maxBytes else {
            throw IncidentRefusal(.invalid, field: "target", "give an address, a network or a user (1 to \(Self.maxBytes) bytes)")
        }
        let accepted = kind.targets
        if trimmed.lowercased().hasPrefix("user:") || accepted == .users {
            guard accepted != .addresses else {
                throw IncidentRefusal(.invalid, field: "target", "a \(kind.noun) applies to an address or network (192.0.2.7, 198.51.100.0/24, 2001:db8::/48), not to a user")
            }
            let name = trimmed.lowercased().hasPrefix("user:") ? String(trimmed.dropFirst(5)) : trimmed
            guard let user = Self.userName(name) else {
                throw IncidentRefusal(.invalid, field: "target", "'\(name.prefix(64))' is not a user name (letters, digits, '.', '_', '-', '@'; 1 to 64)")
            }
            self = .user(user)
            return
        }
        guard let block = CIDRBlock(trimmed) else {
            let users = accepted == .either ? ", or user:NAME" : ""
            throw IncidentRefusal(.invalid, field: "target", "'\(trimmed.prefix(64))' is not an address or network (192.0.2.7, 198.51.100.0/24, 2001:db8::/48\(users))")
        }
        self = .network(block)
    }

    /// A user name as SecMon stores it (lower case), or nil.
    public static func userName(_ text: String) -> String? {
        let name = text.lowercased()
        guard (1...64).contains(name.utf8.count),
              name.utf8.allSatisfy({ (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d || $0 == 0x40 })
        else { return nil }
        return name
    }

    /// As stored and shown: a single address without its `/32` or `/128`; users as `user:NAME`.
    public var description: String {
        switch self {
        case .network(let block): block.prefixLength == 128 ? block.network.description : block.description
        case .user(let name): "user:" + name
        }
    }

    /// For a user target, the name.
    public var userName: String? {
        if case .user(let name) = self { return name }
        return nil
    }

    /// For an address target, the network.
    public var network: CIDRBlock? {
        if case .network(let block) = self { return block }
        return nil
    }

    /// Whether `other` is inside this target (an address in a network, the same user).
    public func covers(_ other: ResponseTarget) -> Bool {
        switch (self, other) {
        case (.user(let a), .user(let b)): a == b
        case (.network(let outer), .network(let inner)):
            outer.prefixLength <= inner.prefixLength && outer.contains(inner.network)
        default: false
        }
    }

    /// Whether this target and `other` share an address (one holds the other), or are the same user.
    public func overlaps(_ other: ResponseTarget) -> Bool { covers(other) || other.covers(self) }
}
