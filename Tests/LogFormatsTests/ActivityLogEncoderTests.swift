import Foundation
import LogFormats
import SecurityModel
import Testing

@Suite("Activity log lines")
struct ActivityLogEncoderTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/seed-app.log")

    @Test("a minimal event is byte-for-byte the original format")
    func originalFormat() {
        let event = ActivityEvent(
            timestamp: Timestamp(iso8601: "2026-02-24T05:29:39.448003")!, ipAddress: "127.0.0.1",
            username: "anonymous", action: .pageVisit, eventID: ""
        )
        var line = ActivityLogEncoder().encode(event)
        line.removeLast()
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasPrefix(#"{"timestamp": "2026-02-24T05:29:39.448003", "ip_address": "127.0.0.1", "username": "anonymous", "action": "PAGE_VISIT", "taskName": null"#))
    }

    @Test("a full event has every field, in order, and ends with one newline")
    func fullEvent() {
        let event = ActivityEvent(
            timestamp: Timestamp(microseconds: 1_771_911_003_451_967), ipAddress: "::1", username: "admin",
            action: .apiRequest, eventID: "e1", userID: "u1", sessionRef: "0123456789abcdef", method: "GET",
            path: "/api/status", status: 200, userAgent: "curl/8", durationMs: 1.5, attemptedUsername: nil
        )
        let text = String(decoding: ActivityLogEncoder().encode(event), as: UTF8.self)
        #expect(text == #"{"timestamp": "2026-02-24T05:30:03.451967", "ip_address": "::1", "username": "admin", "action": "API_REQUEST", "taskName": null, "event_id": "e1", "user_id": "u1", "session_id": "0123456789abcdef", "method": "GET", "path": "/api/status", "status": 200, "user_agent": "curl/8", "duration_ms": 1.500}"# + "\n")
    }

    @Test("hostile values cannot break the line or the JSON", arguments: [
        "quote\" and backslash\\", "new\nline", "carriage\rreturn", "tab\t", "nul\u{0}", "bell\u{7}", "del\u{7F}",
        "unicode ✓ ünïcødé", "\u{2028}line separator", "</script>",
    ])
    func hostileValues(value: String) throws {
        let event = ActivityEvent(
            timestamp: Timestamp(microseconds: 0), ipAddress: "1.2.3.4", username: value, action: .loginFailure,
            eventID: "x", userAgent: value, attemptedUsername: value
        )
        let bytes = ActivityLogEncoder().encode(event)
        #expect(bytes.filter { $0 == 0x0A }.count == 1)
        #expect(bytes.last == 0x0A)
        #expect(!bytes.dropLast().contains { $0 < 0x20 })
        let object = try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["username"] as? String == value)
        #expect(object["user_agent"] as? String == value)
        let back = try ActivityLogDecoder().decode(String(decoding: bytes.dropLast(), as: UTF8.self))
        #expect(back == event)
    }

    @Test("the original application's log reads back exactly, and its fields are a subset of SecMon's")
    func seedFixture() throws {
        let text = try String(contentsOf: Self.fixture, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 46)
        let decoder = ActivityLogDecoder()
        let encoder = ActivityLogEncoder()
        var seedKeys = Set<String>()
        for line in lines {
            let event = try decoder.decode(line)
            let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            seedKeys.formUnion(object.keys)
            #expect(event.timestamp.iso8601 == object["timestamp"] as? String)
            // Re-encoding a seed event gives the seed line back (SecMon's own fields are absent).
            var again = encoder.encode(event)
            again.removeLast()
            #expect(String(decoding: again, as: UTF8.self).replacingOccurrences(of: #", "event_id": """#, with: "") == line)
        }
        let full = ActivityEvent(timestamp: Timestamp(microseconds: 0), ipAddress: "1.2.3.4", username: "u", action: .logout,
                                 eventID: "e", userID: "u", sessionRef: "s", method: "POST", path: "/logout", status: 303,
                                 userAgent: "a", durationMs: 1, attemptedUsername: "x")
        let secmonKeys = try #require(JSONSerialization.jsonObject(with: Data(encoder.encode(full))) as? [String: Any]).keys
        #expect(seedKeys == ["timestamp", "ip_address", "username", "action", "taskName"])
        #expect(seedKeys.isSubset(of: Set(secmonKeys)))
    }

    @Test("malformed lines are rejected with a reason", arguments: [
        ("", LogFormatError.Code.invalidJSON), ("[1,2]", .invalidJSON), ("{\"timestamp\": \"x\"", .invalidJSON),
        ("{\"ip_address\": \"1.2.3.4\", \"username\": \"a\", \"action\": \"X\"}", .missingField),
        ("{\"timestamp\": \"bad\", \"ip_address\": \"1.2.3.4\", \"username\": \"a\", \"action\": \"X\"}", .badTimestamp),
        ("{\"timestamp\": \"2026-02-24T05:29:39.448003\", \"ip_address\": [1], \"username\": \"a\", \"action\": \"X\"}", .wrongType),
    ])
    func malformed(line: String, code: LogFormatError.Code) {
        #expect(throws: LogFormatError.self) { try ActivityLogDecoder().decode(line) }
        do { _ = try ActivityLogDecoder().decode(line) } catch let error as LogFormatError {
            #expect(error.code == code)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
