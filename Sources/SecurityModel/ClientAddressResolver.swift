/// Finds the client's address for a request: the socket peer, unless the peer is a trusted proxy,
/// in which case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
///
/// Taking the right-most untrusted entry (not the left-most) matters: everything left of the
/// last trusted hop was written by the client and can be forged.
public struct ClientAddressResolver: Sendable {
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` headers are believed.
    public var trustedProxies: [CIDRBlock]

    public init(trustedProxies: [CIDRBlock] = []) { self.trustedProxies = trustedProxies }

    /// Whether `address` is a trusted proxy.
    public func isTrusted(_ address: String?) -> Bool {
        guard let address, let ip = IPAddress(address) else { return false }
        return trustedProxies.contains { $0.contains(ip) }
    }

    /// The client address for a request from `peer` carrying the given `X-Forwarded-For` values
    /// (each header value may itself be a comma-separated list).
    public func clientAddress(peer: String?, forwardedFor: [String]) -> String {
        let peerText = peer ?? "unknown"
        guard isTrusted(peer), !forwardedFor.isEmpty else { return peerText }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: " \t") }
            .filter { !$0.isEmpty }
        for hop in hops.reversed() {
            guard let ip = IPAddress(hop) else { return peerText }
            if !trustedProxies.contains(where: { $0.contains(ip) }) { return ip.description }
        }
        return hops.first.flatMap { IPAddress($0)?.description } ?? peerText
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var slice = Substring(self)
        while let first = slice.first, chars.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, chars.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
