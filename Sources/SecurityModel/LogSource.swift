/// Sigma's `logsource`: which stream of events a rule applies to, and which stream an event is from.
///
/// A rule applies to a stream when every attribute the rule states equals the stream's (compared
/// case-insensitively); attributes the rule leaves out match anything. A stream that lacks an
/// attribute the rule states is not matched: a `product: linux` rule never runs on a web access log.
public struct LogSource: Hashable, Sendable, CustomStringConvertible {
    /// The attributes, shared by copies: comparing a stream with a copy of itself, which the
    /// decoder and the engine do for every event, is one pointer comparison.
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let category: String?
        @usableFromInline let product: String?
        @usableFromInline let service: String?

        init(category: String?, product: String?, service: String?) {
            self.category = category
            self.product = product
            self.service = service
        }
    }

    @usableFromInline let storage: Storage

    public var category: String? { storage.category }
    public var product: String? { storage.product }
    public var service: String? { storage.service }

    public init(category: String? = nil, product: String? = nil, service: String? = nil) {
        storage = Storage(category: category?.lowercased(), product: product?.lowercased(), service: service?.lowercased())
    }

    /// Equal when every attribute is (copies of one value share their storage and compare at once,
    /// inline; others compare their attributes out of line).
    @inlinable @inline(__always)
    public static func == (lhs: LogSource, rhs: LogSource) -> Bool {
        lhs.storage === rhs.storage || sameAttributes(lhs.storage, rhs.storage)
    }

    @usableFromInline
    static func sameAttributes(_ l: Storage, _ r: Storage) -> Bool {
        l.category == r.category && l.product == r.product && l.service == r.service
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(category)
        hasher.combine(product)
        hasher.combine(service)
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

    /// A process started on a monitored host (Sigma's `process_creation`, `product: linux`).
    public static let processCreation = LogSource(category: "process_creation", product: "linux")
    /// A connection a monitored host opened or accepted (Sigma's `network_connection`).
    public static let networkConnection = LogSource(category: "network_connection", product: "linux")
    /// A socket that started listening on a monitored host (SecMon's own category).
    public static let networkListen = LogSource(category: "network_listen", product: "linux")
    /// A system sample of a monitored host: CPU, memory, disk (SecMon's own category).
    public static let hostMetrics = LogSource(category: "host_metrics", product: "linux")
    /// A watched file added, modified, deleted or with new permissions, found by file integrity
    /// monitoring (Sigma's `file_event` category, with its `TargetFilename`).
    public static let fileEvent = LogSource(category: "file_event", product: "linux")
    /// The file scanner's verdict on a file that is not clean (Sigma's `antivirus` category, with
    /// its `Filename` and `Signature`).
    public static let antivirus = LogSource(category: "antivirus", product: "linux")
    /// The host sensors' streams by category: what a host log line's `category` selects.
    public static let hostStreams: [String: LogSource] = [
        "process_creation": processCreation, "network_connection": networkConnection,
        "network_listen": networkListen, "host_metrics": hostMetrics,
        "file_event": fileEvent, "antivirus": antivirus,
    ]
}
