import Foundation
import LogFormats
import SecurityModel
import Testing

/// Decoding each format, and rejecting what is not it with a reason.
@Suite("Log decoders")
struct DecoderTests {
    static let reference = Timestamp(iso8601: "2026-11-22T12:00:00Z")!

    static func decode(_ format: LogFormat, _ line: String, fields: [String]) throws -> (EventRecord, FieldTable) {
        let table = FieldTable(fields)
        var decoder = LineDecoder(format: format, fields: table, keepRawLine: true, referenceTime: reference)
        var record = EventRecord(slotCount: table.count)
        var bytes = Array(line.utf8)
        try bytes.withUnsafeMutableBufferPointer { try decoder.decode(UnsafeBufferPointer($0), into: &record) }
        return (record, table)
    }

    static func value(_ result: (EventRecord, FieldTable), _ name: String) -> FieldValue? {
        result.1.existingSlot(name).flatMap { result.0[$0] }
    }

    static func rejection(_ format: LogFormat, _ line: [UInt8]) -> String? {
        var decoder = LineDecoder(format: format, fields: FieldTable(["a"]), keepRawLine: false, referenceTime: reference)
        var record = EventRecord(slotCount: 1)
        do {
            try line.withUnsafeBufferPointer { buffer throws(LineRejection) in try decoder.decode(buffer, into: &record) }
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("the original app's log is read exactly as it is")
    func seedFixture() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/seed-app.log")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 46)
        for line in lines {
            let result = try Self.decode(.activity, String(line), fields: ["ip_address", "username", "action", "taskName"])
            #expect(Self.value(result, "ip_address") == .string("127.0.0.1"))
            #expect(Self.value(result, "taskName") == .null)
            #expect(result.0.logSource == .activity)
        }
        let first = try Self.decode(.activity, String(lines[0]), fields: ["action"])
        #expect(first.0.timestamp == Timestamp(iso8601: "2026-02-24T05:29:39.448003"))
        #expect(Self.value(first, "action") == .string("PAGE_VISIT"))
    }

    @Test("JSON lines: nested keys by dotted path, escapes, numbers, arrays, epoch times")
    func genericJSON() throws {
        let line = #"{"@timestamp": "2026-11-22T10:00:00.5+01:00", "source": {"ip": "10.1.2.3", "geo": {"cc": "DE"}}, "msg": "a \"quoted\" \u00e9 \ud83d\ude00", "n": -42, "x": 1.5e3, "tags": ["a", "b"], "ok": true, "skip": {"deep": [1, {"z": 2}]}}"#
        let result = try Self.decode(.json, line, fields: ["source.ip", "source.geo.cc", "msg", "n", "x", "tags", "ok", "missing"])
        #expect(result.0.timestamp == Timestamp(iso8601: "2026-11-22T09:00:00.5Z"))
        #expect(Self.value(result, "source.ip") == .string("10.1.2.3"))
        #expect(Self.value(result, "source.geo.cc") == .string("DE"))
        #expect(Self.value(result, "msg") == .string("a \"quoted\" é 😀"))
        #expect(Self.value(result, "n") == .int(-42))
        #expect(Self.value(result, "x") == .double(1500))
        #expect(Self.value(result, "tags") == .list([.string("a"), .string("b")]))
        #expect(Self.value(result, "ok") == .bool(true))
        #expect(Self.value(result, "missing") == nil)
        let epoch = try Self.decode(.json, #"{"ts": 1763805600, "a": 1}"#, fields: ["a"])
        #expect(epoch.0.timestamp == Timestamp(iso8601: "2025-11-22T10:00:00Z"))
        let millis = try Self.decode(.json, #"{"time": 1763805600250}"#, fields: [])
        #expect(millis.0.timestamp == Timestamp(iso8601: "2025-11-22T10:00:00.25Z"))
    }

    @Test("bad JSON lines are rejected with the reason", arguments: [
        (#"{"timestamp": "2026-11-22T10:00:00", "a": "unterminated}"#, "unterminated string"),
        (#"{"timestamp": "2026-11-22T10:00:00", "a": tru}"#, "invalid literal"),
        (#"{"timestamp": "2026-11-22T10:00:00" "a": 1}"#, "expected ',' or '}'"),
        (#"{"a": 1}"#, "no time field"),
        (#"{"timestamp": "yesterday", "a": 1}"#, "not an ISO-8601 time"),
        (#"[1, 2]"#, "not a JSON object"),
        (#"{"timestamp": "2026-11-22T10:00:00", "a": 1} trailing"#, "unexpected data after the JSON object"),
        ("", "empty line"),
        (#"{"timestamp": "2026-11-22T10:00:00", "a": "\q"}"#, "unknown escape"),
    ])
    func badJSON(_ line: String, _ reason: String) {
        let got = Self.rejection(.json, Array(line.utf8))
        #expect(got?.contains(reason) == true, "\(got ?? "accepted")")
    }

    @Test("binary garbage, invalid UTF-8, NUL bytes and huge lines are rejected")
    func garbage() {
        #expect(Self.rejection(.json, [0x7B, 0xFF, 0xFE, 0x7D])?.contains("invalid UTF-8") == true)
        #expect(Self.rejection(.json, Array(#"{"timestamp": "2026-11-22T10:00:00", "a": "x\#u{0}y"}"#.utf8))?.contains("NUL byte") == true)
        #expect(Self.rejection(.access, (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) })?.isEmpty == false)
        let huge = [UInt8](repeating: 0x61, count: LineDecoder.maxLineBytes + 1)
        #expect(Self.rejection(.syslog, huge)?.contains("longer than") == true)
        // Valid multi-byte text passes.
        #expect(Self.rejection(.json, Array(#"{"timestamp": "2026-11-22T10:00:00", "a": "Grüße 日本"}"#.utf8)) == nil)
    }

    @Test("combined access log lines use Sigma's webserver fields")
    func accessLog() throws {
        let line = #"203.0.113.9 - bob [22/Nov/2026:13:55:36 -0700] "GET /search.php?q=%27+or+1%3D1 HTTP/1.1" 404 2326 "https://example.com/\"x\"" "Mozilla/5.0 (sqlmap)""#
        let result = try Self.decode(.access, line, fields: AccessLogDecoder.fieldNames)
        #expect(result.0.timestamp == Timestamp(iso8601: "2026-11-22T20:55:36Z"))
        #expect(Self.value(result, "c-ip") == .string("203.0.113.9"))
        #expect(Self.value(result, "cs-username") == .string("bob"))
        #expect(Self.value(result, "cs-method") == .string("GET"))
        #expect(Self.value(result, "cs-uri-query") == .string("/search.php?q=%27+or+1%3D1"))
        #expect(Self.value(result, "cs-uri-stem") == .string("/search.php"))
        #expect(Self.value(result, "cs-version") == .string("HTTP/1.1"))
        #expect(Self.value(result, "sc-status") == .int(404))
        #expect(Self.value(result, "sc-bytes") == .int(2326))
        #expect(Self.value(result, "cs-referer") == .string(#"https://example.com/\"x\""#))
        #expect(Self.value(result, "cs-user-agent") == .string("Mozilla/5.0 (sqlmap)"))
        #expect(result.0.logSource == .webserver)
        // Common log format (no referer or agent), "-" for no user and no bytes, a malformed request.
        let common = try Self.decode(.access, #"2001:db8::1 - - [01/Jan/2026:00:00:00 +0000] "\x16\x03\x01" 400 - "#, fields: AccessLogDecoder.fieldNames)
        #expect(Self.value(common, "c-ip") == .string("2001:db8::1"))
        #expect(Self.value(common, "cs-username") == nil)
        #expect(Self.value(common, "sc-bytes") == nil)
        #expect(Self.value(common, "cs-uri-query") == .string(#"\x16\x03\x01"#))
        #expect(Self.value(common, "cs-method") == nil)
        #expect(Self.rejection(.access, Array(#"203.0.113.9 - - [22/Nov/2026:13:55:36 +0000] GET / 200"#.utf8))?.contains("no quoted request") == true)
        #expect(Self.rejection(.access, Array(#"203.0.113.9 - - [99/Foo/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1"#.utf8))?.contains("bad time") == true)
    }

    @Test("syslog: RFC 3164 with and without PRI, ISO times, RFC 5424; sshd lines parsed")
    func syslog() throws {
        let fields = SyslogDecoder.fieldNames
        let classic = try Self.decode(.syslog, "Nov 22 08:15:01 bastion sshd[1234]: Failed password for invalid user admin from 203.0.113.5 port 51234 ssh2", fields: fields)
        #expect(classic.0.timestamp == Timestamp(iso8601: "2026-11-22T08:15:01Z"))
        #expect(Self.value(classic, "host") == .string("bastion"))
        #expect(Self.value(classic, "program") == .string("sshd"))
        #expect(Self.value(classic, "pid") == .int(1234))
        #expect(Self.value(classic, "outcome") == .string("failure"))
        #expect(Self.value(classic, "user") == .string("admin"))
        #expect(Self.value(classic, "source_ip") == .string("203.0.113.5"))
        #expect(Self.value(classic, "source_port") == .int(51234))
        #expect(Self.value(classic, "auth_method") == .string("password"))
        #expect(classic.0.logSource == .sshd)
        // A December line read in January belongs to the previous year.
        let december = try Self.decode(.syslog, "Dec 31 23:59:59 host cron[1]: x", fields: fields)
        #expect(december.0.timestamp == Timestamp(iso8601: "2025-12-31T23:59:59Z"))
        #expect(december.0.logSource == .syslog)
        let pri = try Self.decode(.syslog, "<38>Nov  2 01:02:03 host sshd[7]: Accepted publickey for deploy from 2001:db8::7 port 22 ssh2: ED25519 SHA256:x", fields: fields)
        #expect(pri.0.timestamp == Timestamp(iso8601: "2026-11-02T01:02:03Z"))
        #expect(Self.value(pri, "outcome") == .string("success"))
        #expect(Self.value(pri, "source_ip") == .string("2001:db8::7"))
        let iso = try Self.decode(.syslog, "2026-11-22T10:00:00.123456+01:00 host sshd[9]: Invalid user oracle from 198.51.100.3 port 4444", fields: fields)
        #expect(iso.0.timestamp == Timestamp(iso8601: "2026-11-22T09:00:00.123456Z"))
        #expect(Self.value(iso, "outcome") == .string("invalid_user"))
        #expect(Self.value(iso, "user") == .string("oracle"))
        let rfc5424 = try Self.decode(.syslog, #"<34>1 2026-11-22T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut="3"] 'su root' failed for lonvick on /dev/pts/8"#, fields: fields)
        #expect(rfc5424.0.timestamp == Timestamp(iso8601: "2026-11-22T22:14:15.003Z"))
        #expect(Self.value(rfc5424, "host") == .string("mymachine.example.com"))
        #expect(Self.value(rfc5424, "program") == .string("su"))
        #expect(Self.value(rfc5424, "pid") == nil)
        #expect(Self.value(rfc5424, "message") == .string("'su root' failed for lonvick on /dev/pts/8"))
        #expect(Self.rejection(.syslog, Array("this is not syslog".utf8))?.contains("not a syslog line") == true)
    }

    @Test("sshd messages", arguments: [
        ("Failed password for root from 1.2.3.4 port 22 ssh2", "failure", "root", "1.2.3.4"),
        ("Failed publickey for git from 1.2.3.4 port 22 ssh2: RSA SHA256:x", "failure", "git", "1.2.3.4"),
        ("Accepted keyboard-interactive/pam for bob from 1.2.3.4 port 22 ssh2", "success", "bob", "1.2.3.4"),
        ("Invalid user test from 5.6.7.8 port 1000", "invalid_user", "test", "5.6.7.8"),
        ("Connection closed by authenticating user root 9.9.9.9 port 5 [preauth]", "disconnect", "root", "9.9.9.9"),
        ("Disconnected from invalid user admin 9.9.9.8 port 6 [preauth]", "disconnect", "admin", "9.9.9.8"),
        ("error: maximum authentication attempts exceeded for root from 7.7.7.7 port 1 ssh2 [preauth]", "max_attempts", "root", "7.7.7.7"),
        ("Connection from 8.8.8.8 port 3333 on 10.0.0.1 port 22 rdomain \"\"", "connect", nil, "8.8.8.8"),
        ("Connection closed by 9.9.9.7 port 5 [preauth]", "disconnect", nil, "9.9.9.7"),
        ("Received disconnect from 9.9.9.6 port 5:11: Bye Bye [preauth]", "disconnect", nil, "9.9.9.6"),
        ("Failed password for invalid user  from 2001:db8::1 port 22 ssh2", "failure", "", "2001:db8::1"),
        // The user name is the client's: a name that looks like a source does not choose the source.
        ("Failed password for invalid user x from 198.51.100.7 port 22 from 203.0.113.5 port 4242 ssh2", "failure",
         "x from 198.51.100.7 port 22", "203.0.113.5"),
        ("Invalid user x from 198.51.100.7 port 22 from 203.0.113.5 port 4242", "invalid_user", "x from 198.51.100.7 port 22", "203.0.113.5"),
        ("Connection closed by invalid user a 198.51.100.7 port 1 203.0.113.5 port 4242 [preauth]", "disconnect",
         "a 198.51.100.7 port 1", "203.0.113.5"),
        ("Received disconnect from 203.0.113.5 port 4242:11: from 198.51.100.7 port 22 [preauth]", "disconnect", nil, "203.0.113.5"),
        ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=x rhost=198.51.100.7",
         "", "x rhost=198.51.100.7", "203.0.113.5"),
    ] as [(String, String, String?, String)])
    func sshdMessages(_ message: String, _ outcome: String, _ user: String?, _ ip: String) {
        let parsed = SSHDMessage(message)
        #expect(parsed.outcome == (outcome.isEmpty ? nil : outcome))
        #expect(parsed.user == user)
        #expect(parsed.sourceIP == ip)
    }

    @Test("formats are detected from the first lines")
    func detection() {
        func detect(_ lines: [String]) -> LogFormat? { LogFormat.detect(lines.map { Array($0.utf8) }, referenceTime: Self.reference) }
        #expect(detect([#"{"timestamp": "2026-02-24T05:29:39.448003", "ip_address": "127.0.0.1", "username": "1", "action": "PAGE_VISIT"}"#]) == .activity)
        #expect(detect([#"{"@timestamp": "2026-02-24T05:29:39Z", "event": {"kind": "x"}}"#]) == .json)
        #expect(detect([#"1.2.3.4 - - [22/Nov/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "curl""#]) == .access)
        #expect(detect(["Nov 22 08:15:01 bastion sshd[1234]: Connection from 1.2.3.4 port 1 on 1.2.3.5 port 22"]) == .syslog)
        #expect(detect(["hello", "world"]) == nil)
        // Mostly one format with a stray line: the majority wins.
        #expect(detect(["garbage", #"1.2.3.4 - - [22/Nov/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1"#, #"1.2.3.4 - - [22/Nov/2026:13:55:37 +0000] "GET /a HTTP/1.1" 200 1"#]) == .access)
    }

    @Test("an address that is not an IP address is not taken as the source", arguments: [
        "Failed password for root from not-an-ip port 22 ssh2", "Invalid user bob from 999.1.1.1 port 22",
    ])
    func invalidAddress(_ message: String) {
        #expect(SSHDMessage(message).sourceIP == nil)
    }

    @Test("crafted syslog and JSON lines are rejected with a reason, never a trap", arguments: [
        (LogFormat.syslog, "<34>1 2026-11-22T10:00:00Z host app - - [a"),
        (.syslog, "<34>1 2026-11-22T10:00:00Z host app - - [a\\"),
        (.syslog, "<34>1 2026-11-22T10:00:00Z host app - - [a x=\"\\]\""),
        (.json, #"{"timestamp": 1e300, "a": 1}"#),
        (.json, #"{"timestamp": -1e300, "a": 1}"#),
        (.json, #"{"timestamp": 9223372036854775807, "a": 1}"#),
        (.json, #"{"timestamp": -9223372036854775807, "a": 1}"#),
        (.json, #"{"ts": -5, "a": 1}"#),
        (.json, #"{"time": 1e17, "a": 1}"#),
    ])
    func crafted(_ format: LogFormat, _ line: String) {
        let reason = Self.rejection(format, Array(line.utf8))
        #expect(reason != nil, "\(line) was accepted")
    }

    @Test("format detection runs every decoder on crafted first lines without trapping")
    func detectionSurvives() {
        let lines = ["<34>1 2026-11-22T10:00:00Z host app - - [a", #"{"timestamp": 1e300}"#, "<34>1 2026-11-22T10:00:00Z h a - - [x\\"]
        _ = LogFormat.detect(lines.map { Array($0.utf8) }, referenceTime: Self.reference)
    }
}
