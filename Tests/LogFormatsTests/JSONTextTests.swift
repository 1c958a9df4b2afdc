import Foundation
import LogFormats
import Testing

@Suite("JSON text")
struct JSONTextTests {
    @Test("quotes, backslashes, control characters and Unicode line separators are escaped; the rest is kept", arguments: [
        ("plain", "\"plain\""), ("a\"b\\c", "\"a\\\"b\\\\c\""), ("line\nbreak\r\t", "\"line\\nbreak\\r\\t\""),
        ("nul\u{0000}esc\u{1B}del\u{7F}", "\"nul\\u0000esc\\u001bdel\\u007f\""),
        ("ls\u{2028}ps\u{2029}nel\u{0085}", "\"ls\\u2028ps\\u2029nel\\u0085\""),
        ("é€😀 \u{2027}\u{202A}", "\"é€😀 \u{2027}\u{202A}\""),
    ])
    func escapes(_ value: String, _ expected: String) throws {
        let quoted = JSONText.quoted(value)
        #expect(quoted == expected)
        // No byte a line-splitting reader could cut at, and it reads back as the same value.
        #expect(!quoted.unicodeScalars.contains { [0x0A, 0x0D, 0x85, 0x2028, 0x2029].contains($0.value) })
        let decoded = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
        #expect(decoded == value)
    }
}
