import LogFormats
import SecurityModel
import Testing

/// The JSON scanner's fast path replays the layout of recent lines. Whatever a stream holds, a
/// decoder that has seen the lines before must decode each line exactly as a fresh decoder does:
/// same time, same values, same rejection.
@Suite("JSON layout replay")
struct JSONLayoutReplayTests {
    static let fields = ["ip_address", "username", "action", "source.ip", "n"]
    static let reference = Timestamp(microseconds: 0)

    /// One line's outcome: the time and values, or the rejection.
    static func outcome(_ decoder: inout LineDecoder, _ line: String, _ table: FieldTable) -> String {
        var record = EventRecord(slotCount: table.count)
        var bytes = Array(line.utf8)
        do {
            try bytes.withUnsafeMutableBufferPointer { buffer throws(LineRejection) in
                try decoder.decode(UnsafeBufferPointer(buffer), into: &record)
            }
            return "\(record.timestamp.microseconds) " + record.values.map { $0.map { "\($0)" } ?? "-" }.joined(separator: "|")
        } catch {
            return "rejected: \(error.reason)"
        }
    }

    /// Lines that share layouts, or almost share them, with values of every type.
    static func lines(seed: UInt64, count: Int) -> [String] {
        var random = Xorshift(seed: seed)
        func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
        var lines: [String] = []
        for _ in 0..<count {
            let time = pick([#""2026-02-24T00:00:0\#(random.next() % 10).5""#, "1771891200", #""not a time""#, "null", #""2026-02-24T00:00:00Z""#])
            let ip = pick([#""10.0.0.\#(random.next() % 4)""#, "null", "7", #""a\"b""#, "[1, 2]", #"{"x": 1}"#, "true"])
            let user = pick([#""alice""#, #""bob""#, "\"\(String(repeating: "u", count: Int(random.next() % 40)))\"", "1.5"])
            let action = pick([#""PAGE_VISIT""#, #""LOGIN_FAILURE""#, "false"])
            let source = pick([#"{"ip": "10.9.9.9"}"#, #""10.8.8.8""#, #"{"port": 1}"#])
            let space = pick([" ", "", "  "])
            var pairs = [("timestamp", time), ("ip_address", ip), ("username", user), ("action", action), ("taskName", "null")]
            if random.next() % 4 == 0 { pairs.insert(("source", source), at: Int(random.next() % 5)) }
            if random.next() % 8 == 0 { pairs.swapAt(1, 3) }
            if random.next() % 10 == 0 { pairs.append(("action", #""LOGOUT""#)) }   // duplicate key: the last counts
            if random.next() % 12 == 0 { pairs[2].0 = #"user\u006eame"# }              // escaped key
            var line = "{" + pairs.map { "\"\($0.0)\":\(space)\($0.1)" }.joined(separator: ",\(space)") + "}"
            switch random.next() % 14 {
            case 0: line.removeLast()                      // truncated
            case 1: line += " x"                           // trailing garbage
            case 2: line = line.replacingOccurrences(of: ":", with: "=")
            case 3: line += "  "                           // trailing space
            default: break
            }
            lines.append(line)
        }
        return lines
    }

    @Test("a warmed decoder decodes every line as a fresh one does", arguments: [1, 2, 3, 4])
    func replayMatchesFullScan(seed: UInt64) {
        let table = FieldTable(Self.fields)
        var warm = LineDecoder(format: .json, fields: table, keepRawLine: false, referenceTime: Self.reference)
        for (number, line) in Self.lines(seed: seed, count: 3000).enumerated() {
            var fresh = LineDecoder(format: .json, fields: table, keepRawLine: false, referenceTime: Self.reference)
            let expected = Self.outcome(&fresh, line, table)
            let got = Self.outcome(&warm, line, table)
            #expect(got == expected, "line \(number + 1): \(line)")
        }
    }

    @Test("the app's own log takes the fast path and stays exact when a line changes shape")
    func appLog() {
        let table = FieldTable(["ip_address", "username", "action"])
        var decoder = LineDecoder(format: .activity, fields: table, keepRawLine: false, referenceTime: Self.reference)
        let lines = [
            #"{"timestamp": "2026-02-24T00:00:00.869789", "ip_address": "172.27.19.2", "username": "anonymous", "action": "PAGE_VISIT", "taskName": null}"#,
            #"{"timestamp": "2026-02-24T00:00:01.483505", "ip_address": "10.127.60.143", "username": "89", "action": "LOGIN_SUCCESS", "taskName": null}"#,
            // Same layout, but the object is not closed: rejected, as by the full scan.
            #"{"timestamp": "2026-02-24T00:00:02.000000", "ip_address": "10.0.0.1", "username": "89", "action": "LOGOUT", "taskName": null"#,
            // Same keys, other spacing: the full scan reads it, and it becomes a layout too.
            #"{"timestamp":"2026-02-24T00:00:03.000000","ip_address":"10.0.0.2","username":"7","action":"API_REQUEST","taskName":null}"#,
            #"{"timestamp": "2026-02-24T00:00:04.000000", "ip_address": "10.0.0.3", "username": "8", "action": "PAGE_VISIT", "taskName": null}"#,
        ]
        let outcomes = lines.map { Self.outcome(&decoder, $0, table) }
        #expect(outcomes[0] == "1771891200869789 172.27.19.2|anonymous|PAGE_VISIT")
        #expect(outcomes[1] == "1771891201483505 10.127.60.143|89|LOGIN_SUCCESS")
        #expect(outcomes[2] == "rejected: the JSON object is not closed (truncated line?)")
        #expect(outcomes[3] == "1771891203000000 10.0.0.2|7|API_REQUEST")
        #expect(outcomes[4] == "1771891204000000 10.0.0.3|8|PAGE_VISIT")
    }
}

/// A small deterministic generator.
struct Xorshift {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
