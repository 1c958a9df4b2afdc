import Foundation
import DetectionEngine
import SecurityModel

/// An indicator list as an administrator writes it: one entry per line, `#` comments (whole
/// lines, or after an entry and a space), blank lines ignored, duplicates dropped. Pure.
///
/// An entry is a Sigma string (`*` and `?` wildcards) or, when it starts with an address and has
/// a `/`, a network in CIDR notation, which must then be valid.
struct IndicatorListText: Sendable, Equatable {
    /// Most entries in one list.
    static let maxEntries = 100_000
    /// Most bytes in one entry.
    static let maxEntryBytes = 512

    /// The entries, in the order written, without duplicates.
    var entries: [String]
    /// Lines that repeated an earlier entry (dropped).
    var duplicates: Int
    /// What is wrong, by line (`line 3: '10.0.0.0/33' is not a network ...`); empty when valid.
    var problems: [String]

    init(_ text: String) {
        var entries: [String] = []
        var seen = Set<String>()
        var duplicates = 0
        var problems: [String] = []
        var number = 0
        // Browsers send a text area's lines with CRLF: one Character, "\r\n", which is a newline.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            var line = Substring(raw)
            if let comment = line.range(of: " #") ?? line.range(of: "\t#") { line = line[..<comment.lowerBound] }
            let entry = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            if let problem = Self.problem(entry) {
                if problems.count < 20 { problems.append("line \(number): \(problem)") }
                continue
            }
            guard seen.insert(entry.lowercased()).inserted else { duplicates += 1; continue }
            entries.append(entry)
        }
        if entries.count > Self.maxEntries {
            problems.append("\(entries.count) entries; a list holds at most \(Self.maxEntries) (use networks such as 198.51.100.0/24 for ranges)")
        }
        self.entries = entries
        self.duplicates = duplicates
        self.problems = problems
    }

    /// Why `entry` cannot be used, if it cannot.
    static func problem(_ entry: String) -> String? {
        if entry.utf8.count > maxEntryBytes {
            return "an entry of \(entry.utf8.count) bytes; entries are at most \(maxEntryBytes) bytes"
        }
        if entry.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "'\(entry.prefix(64))' holds a control character"
        }
        if let slash = entry.firstIndex(of: "/"), IPAddress(String(entry[..<slash])) != nil, CIDRBlock(entry) == nil {
            return "'\(entry)' is not a network in CIDR notation (like 198.51.100.0/24 or 2001:db8::/32)"
        }
        return nil
    }

    /// The text as stored: `\n` line breaks, no trailing blanks on a line or at the end.
    static func normalized(_ text: String) -> String {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { line in String(line[..<(line.lastIndex { !$0.isWhitespace }.map(line.index(after:)) ?? line.startIndex)]) }
            .joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
