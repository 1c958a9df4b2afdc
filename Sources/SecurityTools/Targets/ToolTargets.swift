import Foundation
import SecurityModel

/// Where the network tools may reach: loopback always, and the hosts and networks an
/// administrator allowlisted. Every address a name resolves to must be allowed, and the tool
/// connects to the address it checked, so that neither a name pointing elsewhere nor one whose
/// answer changes (DNS rebinding) turns a tool into a request forger. Pure.
public struct ToolTargets: Sendable, Equatable {
    /// Allowlisted networks (`192.0.2.0/24`, a single address).
    public var networks: [CIDRBlock]
    /// Allowlisted host names (exact, lower case).
    public var hosts: [String]

    public init(networks: [CIDRBlock] = [], hosts: [String] = []) {
        self.networks = networks
        self.hosts = hosts
    }

    /// The largest allowlist, in entries.
    public static let maxEntries = 500

    static let loopback = [CIDRBlock("127.0.0.0/8")!, CIDRBlock("::1/128")!]

    /// Reads an allowlist written one entry per line (addresses, networks or host names; `#`
    /// comments), or refuses naming the line.
    public static func parse(_ text: String) throws(Refusal) -> ToolTargets {
        var targets = ToolTargets()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? ""
            if line.isEmpty { continue }
            if let block = CIDRBlock(line) {
                targets.networks.append(block)
            } else {
                do {
                    targets.hosts.append(try DomainName.validate(line))
                } catch {
                    throw Refusal(description: "line \(index + 1): '\(line.prefix(60))' is neither an address, a network nor a host name (\(error.description))")
                }
            }
            guard targets.networks.count + targets.hosts.count <= maxEntries else {
                throw Refusal(description: "line \(index + 1): at most \(maxEntries) entries")
            }
        }
        return targets
    }

    /// The allowlist as it is edited: one entry per line.
    public var text: String {
        (networks.map { $0.prefixLength == 128 ? $0.network.description : $0.description } + hosts)
            .joined(separator: "\n")
    }

    /// Why a target is refused.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Whether the address is loopback or inside an allowlisted network.
    public func allows(_ address: IPAddress) -> Bool {
        (Self.loopback + networks).contains { $0.contains(address) }
    }

    /// Checks a target: `host` as typed, and the addresses it resolved to. Answers the address to
    /// connect to (the first), or refuses saying why and how to allow it.
    public func check(host: String, resolved: [IPAddress]) throws(Refusal) -> IPAddress {
        guard let first = resolved.first else { throw Refusal(description: "\(host) resolves to no address") }
        // An allowlisted name is trusted wherever it points; anything else must land on allowed addresses.
        if hosts.contains(host.lowercased()) { return first }
        for address in resolved where !allows(address) {
            throw Refusal(description: "\(address) (\(host)) is neither loopback nor allowlisted: an administrator adds it under Tools › Allowed targets")
        }
        return first
    }
}
