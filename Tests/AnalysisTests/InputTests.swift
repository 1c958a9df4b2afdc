import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import SecurityModel
import Testing

/// Reading inputs: gzip, line endings, oversized lines, damaged files; and bad lines among good ones.
@Suite("Inputs and bad input")
struct InputTests {
    static func lines(_ path: String, maxLineBytes: Int = 1 << 20, chunkSize: Int = 4 << 20) throws -> [String] {
        var out: [String] = []
        let reader = try LineReader(path: path, maxLineBytes: maxLineBytes, chunkSize: chunkSize)
        try reader.forEach { item in
            switch item {
            case .line(let line): out.append(String(decoding: line, as: UTF8.self))
            case .oversized(let length): out.append("<\(length) bytes>")
            }
        }
        return out
    }

    static func gzip(_ data: Data) throws -> Data {
        let input = Paths.temporary("raw")
        try data.write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-c", input.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return out
    }

    @Test("lines: CRLF, no final newline, empty lines, cut anywhere")
    func lineSplitting() throws {
        let path = Paths.temporary("a.log")
        try Data("one\r\ntwo\n\nthree".utf8).write(to: path)
        for chunk in [1, 2, 5, 4096] {
            #expect(try Self.lines(path.path, chunkSize: chunk) == ["one", "two", "", "three"])
        }
    }

    @Test("an oversized line is reported by length without holding it; the lines around it are intact")
    func oversized() throws {
        let path = Paths.temporary("big.log")
        try Data(("before\n" + String(repeating: "x", count: 10_000) + "\nafter\n").utf8).write(to: path)
        #expect(try Self.lines(path.path, maxLineBytes: 1000, chunkSize: 333) == ["before", "<10000 bytes>", "after"])
    }

    @Test("gzip is recognised by content; concatenated members are read; a truncated file fails after its good lines")
    func gzipInputs() throws {
        let first = try Self.gzip(Data("a\nb\n".utf8)), second = try Self.gzip(Data("c\n".utf8))
        let path = Paths.temporary("rotated.log.1")   // no .gz suffix on purpose
        try (first + second).write(to: path)
        #expect(try Self.lines(path.path) == ["a", "b", "c"])
        #expect(try Self.lines(path.path, chunkSize: 3) == ["a", "b", "c"])
        let big = try Self.gzip(Data((0..<20_000).map { "line \($0)\n" }.joined().utf8))
        let cut = Paths.temporary("cut.gz")
        try big.prefix(big.count / 2).write(to: cut)
        var delivered = 0
        let reader = try LineReader(path: cut.path)
        #expect(throws: LineReader.Failure.self) { try reader.forEach { _ in delivered += 1 } }
        #expect(delivered > 1000)
        let corrupt = Paths.temporary("corrupt.gz")
        var bytes = [UInt8](big)
        for i in 200..<400 { bytes[i] ^= 0x5A }
        try Data(bytes).write(to: corrupt)
        #expect(throws: LineReader.Failure.self) { try Self.lines(corrupt.path) }
    }

    @Test("missing files and directories are clear errors")
    func unreadable() {
        #expect { try LineReader(path: "/nonexistent/app.log") } throws: { "\($0)".contains("cannot open /nonexistent/app.log") }
        #expect { try LineReader(path: "/tmp") } throws: { "\($0)".contains("is a directory") }
    }

    @Test("bad lines among good ones are counted with file, line and reason; the rest is analysed")
    func badLines() throws {
        let path = Paths.temporary("mixed.log")
        var text = ""
        for i in 0..<4 {
            text += #"{"timestamp": "2026-11-20T10:00:0\#(i)", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}"# + "\n"
            if i == 1 { text += "\u{1}\u{2}garbage\n" }
            if i == 2 { text += #"{"timestamp": "2026-11-20T10:00:02", "ip_address": "1.2.3.4", "act"# + "\n" }
        }
        var data = Data(text.utf8)
        data.append(contentsOf: [0xC3, 0x28, 0x0A])   // invalid UTF-8
        try data.write(to: path)
        let report = try analyze([path.path])
        #expect(report.inputs[0].format == .activity)
        #expect(report.totalEvents == 4)
        #expect(report.totalRejected == 3)
        #expect(report.rejections.map(\.line) == [3, 5, 7])
        #expect(report.rejections[0].description.hasPrefix(path.path + ":3: "))
        #expect(report.rejections[1].reason.contains("truncated"))
        #expect(report.rejections[2].reason.contains("invalid UTF-8"))
        #expect(report.alerts.map(\.rule.label) == ["D-01"])
    }

    @Test("events later than the lateness are counted and reported by file and line, not correlated")
    func lateEvents() throws {
        let path = Paths.temporary("late.log")
        // The 10:00:03 line arrives after 10:10:10 released 10:10:00: events after it were correlated.
        let times = ["10:00:00", "10:00:01", "10:00:02", "10:10:00", "10:10:10", "10:00:03"]
        let text = times.map { #"{"timestamp": "2026-11-20T\#($0)", "ip_address": "1.2.3.4", "username": "anonymous", "action": "LOGIN_FAILURE"}"# }
            .joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: path)
        let report = try analyze([path.path])
        #expect(report.engine.late == 1)
        #expect(report.alerts.isEmpty)   // with the late line, 4 failures would lie within 5 minutes
        let renderer = AlertRenderer(inputNames: [path.path])
        #expect(renderer.summary(report, elapsedSeconds: 1).contains("first late events: \(path.path):6"))
        #expect(renderer.document(report, elapsedSeconds: 1).contains(#""late_events":["\#(path.path):6"]"#))
    }

    @Test("an input in no known format has every line rejected with a hint; other inputs still run")
    func unknownFormat() throws {
        let junk = Paths.temporary("junk.txt")
        try Data("hello\nworld\n".utf8).write(to: junk)
        let report = try analyze([junk.path, "/nonexistent.log", Paths.seedLog])
        #expect(report.inputs[0].rejected == 2)
        #expect(report.rejections.first?.reason.contains("use --format") == true)
        #expect(report.inputs[1].failure?.contains("cannot open") == true)
        #expect(report.inputs[2].events == 46)
        #expect(report.alerts.count == 4)
    }

    @Test("--since and --until keep events inside the range and count the rest")
    func timeRange() throws {
        let options = Analyzer.Options(since: Timestamp(iso8601: "2026-02-24T05:33:00"), until: Timestamp(iso8601: "2026-02-24T05:36:00"),
                                       referenceTime: Timestamp(microseconds: 0))
        let report = try analyze([Paths.seedLog], options: options)
        #expect(report.inputs[0].outsideRange > 0)
        #expect(report.totalEvents + report.inputs[0].outsideRange == 46)
        #expect(report.alerts.map(\.rule.label) == ["D-03", "D-03"])
    }

    @Test("each input's lines, bytes and events are counted apart, and the report counts the current input while it is read")
    func perInputCounts() throws {
        let line = #"{"timestamp": "2026-11-20T10:00:00", "ip_address": "1.2.3.4", "username": "a", "action": "PAGE_VISIT"}"#
        var analyzer = Analyzer(rules: Pack.rules, options: .init(referenceTime: Timestamp(microseconds: 0)))
        for (input, count) in [3, 30, 7].enumerated() {
            analyzer.beginInput("input-\(input)")
            for _ in 0..<count { Array(line.utf8).withUnsafeBufferPointer { analyzer.feed($0) } }
            // While the input is read (a progress line reads this), its lines are already counted.
            #expect(analyzer.report.inputs[input].lines == Int64(count))
        }
        Array("not json".utf8).withUnsafeBufferPointer { analyzer.feed($0) }
        let report = analyzer.finish()
        #expect(report.inputs.map(\.lines) == [3, 30, 8])
        #expect(report.inputs.map(\.events) == [3, 30, 7])
        #expect(report.inputs.map(\.rejected) == [0, 0, 1])
        let perLine = Int64(line.utf8.count + 1)
        let expectedBytes: [Int64] = [3 * perLine, 30 * perLine, 7 * perLine + 9]   // "not json" and its newline
        #expect(report.inputs.map(\.bytes) == expectedBytes)
        #expect(report.totalEvents == 40)
    }
}
