import SecurityModel

/// The log formats SecMon reads.
public enum LogFormat: String, CaseIterable, Sendable {
    /// The original app's JSON log and SecMon's own activity log (`timestamp`, `ip_address`,
    /// `username`, `action`, ...); logsource `product: secmon, service: activity`.
    case activity
    /// Any JSON object per line; nested keys by dotted path; time from `timestamp`, `@timestamp`,
    /// `time` or `ts`.
    case json
    /// nginx / Apache combined or common access log; logsource `category: webserver`.
    case access
    /// syslog (RFC 3164 / 5424), sshd auth logs included; logsource `product: linux`.
    case syslog

    /// The logsource of this format's events (syslog lines refine it per line: sshd or not).
    public var logSource: LogSource {
        switch self {
        case .activity: return .activity
        case .json: return .json
        case .access: return .webserver
        case .syslog: return .syslog
        }
    }

    /// Guesses the format of a stream from its first lines: each format is tried on each sample
    /// line and the one that decodes most of them wins (ties in declaration order). Returns nil
    /// when no format decodes any line.
    public static func detect(_ samples: [[UInt8]], referenceTime: Timestamp) -> LogFormat? {
        var best: (format: LogFormat, score: Int)?
        let empty = FieldTable()
        for format in allCases {
            let decoder = LineDecoder(format: format, fields: empty, keepRawLine: false, referenceTime: referenceTime)
            var record = EventRecord(slotCount: 0)
            var score = 0
            for sample in samples {
                let ok = sample.withUnsafeBufferPointer { buffer in
                    (try? decoder.decode(buffer, into: &record)) != nil && format.accepts(buffer)
                }
                if ok { score += 1 }
            }
            if score > 0, score > (best?.score ?? 0) { best = (format, score) }
        }
        return best?.format
    }

    /// Extra recognition beyond decoding: an activity line names its action and client address.
    func accepts(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard self == .activity else { return true }
        func has(_ key: String) -> Bool {
            let needle = Array(key.utf8)
            guard line.count >= needle.count else { return false }
            var i = 0
            while i + needle.count <= line.count {
                if line[i] == needle[0], Array(line[i..<(i + needle.count)]) == needle { return true }
                i += 1
            }
            return false
        }
        return has("\"action\"") && has("\"ip_address\"")
    }
}
