/// Sigma's `logsource`: which stream of events a rule applies to, and which stream an event is from.
///
/// A rule applies to a stream when every attribute the rule states equals the stream's (compared
/// case-insensitively); attributes the rule leaves out match anything. A stream that lacks an
/// attribute the rule states is not matched: a `product: linux` rule never runs on a web access log.
public struct LogSource: Hashable, Sendable, CustomStringConvertible {
    public var category: String?
    public var product: String?
    public var service: String?

    public init(category: String? = nil, product: String? = nil, service: String? = nil) {
        self.category = category?.lowercased()
        self.product = product?.lowercased()
        self.service = service?.lowercased()
    }

    /// Equal when every attribute is. Written out (rather than derived) so that comparing, which
    /// the engine does for every event, copies no strings.
    @inlinable
    public static func == (lhs: LogSource, rhs: LogSource) -> Bool {
        same(lhs.category, rhs.category) && same(lhs.product, rhs.product) && same(lhs.service, rhs.service)
    }

    @inlinable @inline(__always)
    static func same(_ a: String?, _ b: String?) -> Bool {
        if a == nil { return b == nil }
        if b == nil { return false }
        return a.unsafelyUnwrapped == b.unsafelyUnwrapped
    }

    /// Whether a rule with this logsource applies to events of `stream`.
    public func applies(to stream: LogSource) -> Bool {
        func ok(_ wanted: String?, _ actual: String?) -> Bool { wanted == nil || wanted == actual }
        return ok(category, stream.category) && ok(product, stream.product) && ok(service, stream.service)
    }

    public var description: String {
        let parts = [("category", category), ("product", product), ("service", service)]
            .compactMap { name, value in value.map { "\(name)=\($0)" } }
        return parts.isEmpty ? "any" : parts.joined(separator: ",")
    }

    /// SecMon's own activity log and the original app's log (`product: secmon`, `service: activity`).
    public static let activity = LogSource(category: "application", product: "secmon", service: "activity")
    /// nginx / Apache access logs (`category: webserver`, as SigmaHQ's web rules expect).
    public static let webserver = LogSource(category: "webserver")
    /// sshd lines from a syslog or auth log (`product: linux`, `service: sshd`).
    public static let sshd = LogSource(product: "linux", service: "sshd")
    /// Other syslog lines (`product: linux`, `service: syslog`).
    public static let syslog = LogSource(product: "linux", service: "syslog")
    /// Generic JSON lines: no attributes, so only rules without a logsource (or with an empty one) apply.
    public static let json = LogSource()
}
