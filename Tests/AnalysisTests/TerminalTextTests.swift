import Analysis
import DetectionEngine
import Foundation
import SecurityModel
import Testing

@Suite("Terminal output")
struct TerminalTextTests {
    @Test("control characters and bidirectional overrides are shown, not obeyed", arguments: [
        ("plain é€", "plain é€"), ("\u{1B}[2J\u{1B}]0;owned\u{07}", "\\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
        ("a\rb\nc\td", "a\\u{d}b\\u{a}c\\u{9}d"), ("\u{9B}31m", "\\u{9b}31m"), ("abc\u{202E}gpj.exe", "abc\\u{202e}gpj.exe"),
    ])
    func escapes(_ input: String, _ expected: String) {
        #expect(TerminalText.safe(input) == expected)
    }

    @Test("an escape sequence typed as a user name reaches the alert table escaped")
    func table() throws {
        let dir = Paths.temporary("escape.log")
        // JSON-escaped in the line; the decoded address holds ESC and BEL.
        let name = #"\u001b]0;pwned\u0007\u001b[2J"#
        let lines = (0..<5).map { i in
            #"{"timestamp": "2026-02-24T05:30:0\#(i).000000", "ip_address": "\#(name)", "username": "anonymous", "action": "LOGIN_FAILURE", "taskName": null}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir, atomically: true, encoding: .utf8)
        let report = try analyze([dir.path])
        let renderer = AlertRenderer(inputNames: [dir.path])
        let table = renderer.table(report.alerts)
        #expect(table.contains("D-01"))
        #expect(!table.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        #expect(table.contains("\\u{1b}]0;pwned"))
    }
}

@Suite("Rejection reasons")
struct RejectionReasonTests {
    @Test("reasons that quote their lines are counted in a bounded table, every line still counted")
    func bounded() throws {
        let path = Paths.temporary("numbers.log")
        // Each line fails with its own reason text (the bad time is quoted).
        let lines = (0..<500).map { #"1.2.3.4 - - [not-a-time-\#($0)] "GET / HTTP/1.1" 200 1 "-" "curl""# }
        try (lines.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
        let report = try analyze([path.path], options: .init(format: .access, referenceTime: Timestamp(iso8601: "2026-11-22T12:00:00Z")!))
        #expect(report.totalRejected == 500)
        #expect(report.rejectionReasons.count <= Analyzer.maxRejectionReasons + 1)
        #expect(report.rejectionReasons.values.reduce(0, +) == 500)
    }
}
