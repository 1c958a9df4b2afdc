import SecurityModel

/// The log formats SecMon reads.
public enum LogFormat: String, CaseIterable, Sendable {
    /// The original app's JSON log and SecMon's own activity log (`timestamp`, `ip_address`,
    /// `username`, `action`, ...); logsource `product: secmon, service: activity`.
    case activity
    /// SecMon's host sensors' log (`logs/host.log`): one JSON object per line with `timestamp`,
    /// `category` (`process_creation`, `network_connection`, `network_listen`, `host_metrics`)
    /// and Sigma's field names; logsource `product: linux` with that category, per line.
    case host
    /// Any JSON object per line; nested keys by dotted path; time from `timestamp`, `@timestamp`,
    /// `time` or `ts`.
    case json
    /// nginx / Apache combined or common access log; logsource `category: webserver`.
    case access
    /// syslog (RFC 3164 / 5424), sshd auth logs included; logsource `product: linux`.
    case syslog

    /// The logsource of this format's events (syslog lines refine it per line: sshd or not; host
    /// lines by their category).
    public var logSource: LogSource {
        switch self {
        case .activity: return .activity
        case .host: return .processCreation
        case .json: return .json
        case .access: return .webserver
        case .syslog: return .syslog
        }
    }

    /// All the streams a format's lines may belong to.
    public var logSources: [LogSource] {
        switch self {
        case .syslog: return [.sshd, .syslog]
        case .host: return Array(LogSource.hostStreams.values)
        default: return [logSource]
        }
    }

    /// Guesses the format of a stream from its first lines: each format is tried on each sample
    /// line and the one that decodes most of them wins (ties in declaration order). An activity
    /// line must also have `action` and `ip_address`; a host line, a known `category`. Returns nil when no format decodes any line.
    public static func detect(_ samples: [[UInt8]], referenceTime: Timestamp) -> LogFormat? {
        var best: (format: LogFormat, score: Int)?
        for format in allCases {
            let required = format == .activity ? FieldTable(["action", "ip_address"]) : FieldTable()
            // (A host line must have a known category, or the host decoder refuses it.)
            var decoder = LineDecoder(format: format, fields: required, keepRawLine: false, referenceTime: referenceTime)
            var record = EventRecord(slotCount: required.count)
            var score = 0
            for sample in samples {
                let decoded = sample.withUnsafeBufferPointer { (try? decoder.decode($0, into: &record)) != nil }
                if decoded, (0..<record.slotCount).allSatisfy(record.hasValue) { score += 1 }
            }
            if score > 0, score > (best?.score ?? 0) { best = (format, score) }
        }
        return best?.format
    }
}
