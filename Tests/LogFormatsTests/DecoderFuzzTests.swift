import LogFormats
import SecurityModel
import Testing

/// Mutates well-formed lines into hostile ones: the property every decoder must keep is that any
/// input is decoded or rejected with a reason, and nothing traps (a trap would end the test run).
enum LineMutator {
    /// Tokens that have broken parsers: delimiters, escapes, huge and odd numbers, separators,
    /// invalid UTF-8, NUL.
    static let tokens: [[UInt8]] = [
        "\\", "\"", "[", "]", "{", "}", ":", ",", " ", "<", ">", "-", "1e300", "-1e300", "NaN", "9223372036854775807",
        "-9223372036854775808", "18446744073709551616", "0.000000000000001", "\u{2028}", "\u{0085}", "é", "😀",
        " from 198.51.100.7 port 22", " port ", "[preauth]", "1 ", "<34>", "Oct 99 99:99:99", "2026-13-45T25:61:61Z",
        "\\u0000", "\\ud800", "\"timestamp\":", "null", "true", "[]", "{}", String(repeating: "9", count: 400),
    ].map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3], [0xE2, 0x80], [0x0A], [0x0D], [0x09], [0x7F]]

    static func mutate(_ line: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = line
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] = UInt8.random(in: 0...255, using: &rng)
            case 1:
                bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: position)
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...12, using: &rng))
                bytes.removeSubrange(min(position, end)..<end)
            case 3:
                bytes.removeSubrange(position..<bytes.count)   // truncated
            case 4 where bytes.count > 2:
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let end = min(bytes.count, start + Int.random(in: 1...40, using: &rng))
                bytes.insert(contentsOf: bytes[start..<end], at: position)
            case 5:
                bytes.insert(contentsOf: repeatElement(tokens.randomElement(using: &rng)!.first ?? 0x20, count: Int.random(in: 1...3000, using: &rng)), at: position)
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            }
        }
        return bytes
    }
}

@Suite("Fuzzing the decoders")
struct DecoderFuzzTests {
    static let reference = Timestamp(iso8601: "2026-11-22T12:00:00Z")!
    static let fields = FieldTable(["ip_address", "username", "action", "status", "path", "a.b", "c-ip", "cs-uri-query", "sc-status",
                                    "cs-user-agent", "host", "program", "pid", "message", "user", "source_ip", "source_port", "outcome",
                                    "auth_method", "timestamp", "ts", "source.ip"])

    static let seeds: [LogFormat: [String]] = [
        .activity: [
            #"{"timestamp": "2026-02-24T05:29:39.448003", "ip_address": "127.0.0.1", "username": "1", "action": "PAGE_VISIT", "taskName": null}"#,
            #"{"timestamp": "2026-02-24T05:29:39.448003", "ip_address": "127.0.0.1", "username": "anonymous", "action": "LOGIN_FAILURE", "taskName": null, "event_id": "0190f1c2-0000-7000-8000-000000000000", "status": 401, "path": "/login", "duration_ms": 1.5, "attempted_username": "r\"oo\\t"}"#,
        ],
        .host: [
            #"{"timestamp": "2026-12-02T08:58:43.937684", "event_id": "01a235fa-4561-7cb1-998f-86436cdd0084", "category": "process_creation", "Image": "/usr/bin/bash", "CommandLine": "bash -c \"curl x | sh\"", "ProcessId": 22815, "User": "root", "ParentProcessId": 1, "ImageDeleted": "false", "Computer": "vm"}"#,
            #"{"timestamp": "2026-12-02T08:58:50.941870", "category": "network_connection", "Image": "/usr/bin/bash", "Initiated": "true", "DestinationIp": "::1", "DestinationPort": 443, "Computer": "vm"}"#,
            #"{"timestamp": "2026-12-02T08:58:45.940165", "category": "host_metrics", "CpuPercent": 3.0, "MemoryPercent": 3.3, "Computer": "vm"}"#,
        ],
        .json: [
            #"{"@timestamp": "2026-02-24T05:29:39Z", "source": {"ip": "1.2.3.4"}, "a": {"b": [1, 2.5, "x", null, true]}}"#,
            #"{"ts": 1700000000.25, "message": "hello \u00e9 \ud83d\ude00", "n": -12e3}"#,
            #"{"time": 1700000000000, "nested": {"deeper": {"x": "y"}}, "list": [{"a": 1}]}"#,
        ],
        .access: [
            #"1.2.3.4 - frank [22/Nov/2026:13:55:36 +0000] "GET /a?b=c HTTP/1.1" 200 1234 "http://x/" "Mozilla/5.0""#,
            #"::1 - - [22/Nov/2026:13:55:36 -0700] "POST /login HTTP/2.0" 401 - "-" "curl/8.0""#,
        ],
        .syslog: [
            "Nov 22 08:15:01 bastion sshd[1234]: Failed password for invalid user admin from 1.2.3.4 port 22 ssh2",
            "<38>Nov  2 08:15:01 bastion sshd[1234]: Accepted publickey for git from 2001:db8::1 port 5 ssh2: RSA SHA256:abc",
            "2026-11-22T08:15:01.123456+01:00 host sshd[1]: Connection closed by authenticating user root 1.2.3.4 port 5 [preauth]",
            #"<34>1 2026-11-22T10:00:00.003Z mymachine su 77 ID47 [exampleSDID@32473 iut="3" eventSource="App\]"] 'su root' failed"#,
            "Nov 22 08:15:01 host sshd[9]: pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=1.2.3.4  user=root",
        ],
    ]

    static func decodeOrReject(_ format: LogFormat, _ line: [UInt8]) {
        var decoder = LineDecoder(format: format, fields: fields, keepRawLine: true, referenceTime: reference)
        var record = EventRecord(slotCount: fields.count)
        do {
            try line.withUnsafeBufferPointer { buffer throws(LineRejection) in try decoder.decode(buffer, into: &record) }
            // Accepted: every value reads back, and the time is one the engine can hold.
            for slot in 0..<fields.count { _ = record[slot] }
        } catch {
            #expect(!error.reason.isEmpty, "a rejection without a reason for \(String(decoding: line, as: UTF8.self))")
        }
    }

    @Test("mutated lines are decoded or rejected with a reason, never a trap", arguments: LogFormat.allCases)
    func mutations(_ format: LogFormat) {
        var rng = SeededGenerator(seed: 0x5EC0_0000 &+ UInt64(format.rawValue.utf8.count))
        let seeds = Self.seeds[format]!.map { Array($0.utf8) }
        for seed in seeds { Self.decodeOrReject(format, seed) }
        for _ in 0..<6000 {
            Self.decodeOrReject(format, LineMutator.mutate(seeds.randomElement(using: &rng)!, &rng))
        }
    }

    @Test("random bytes and every prefix of every seed are handled", arguments: LogFormat.allCases)
    func prefixesAndNoise(_ format: LogFormat) {
        var rng = SeededGenerator(seed: 0xBADC_0FFE)
        for seed in Self.seeds[format]!.map({ Array($0.utf8) }) {
            for end in 0...seed.count { Self.decodeOrReject(format, Array(seed[..<end])) }
        }
        for _ in 0..<2000 {
            let noise = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            Self.decodeOrReject(format, noise)
        }
    }

    @Test("format detection survives mutated first lines of every format")
    func detection() {
        var rng = SeededGenerator(seed: 0xDE7E_C7ED)
        let all = Self.seeds.values.flatMap { $0 }.map { Array($0.utf8) }
        for _ in 0..<1500 {
            let sample = (0..<Int.random(in: 1...8, using: &rng)).map { _ in LineMutator.mutate(all.randomElement(using: &rng)!, &rng) }
            _ = LogFormat.detect(sample, referenceTime: Self.reference)
        }
    }
}
