@testable import EventPipeline
import Synchronization
import Foundation
import Testing

@Suite("Append-only log file", .timeLimit(.minutes(10)))
struct AppendOnlyLogFileTests {
    static func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("secmon-log-\(UUID().uuidString).log").path
    }

    static func line(_ task: Int, _ index: Int) -> [UInt8] {
        // Long enough that a torn or interleaved write would show.
        Array("{\"task\": \(task), \"index\": \(index), \"pad\": \"\(String(repeating: "x", count: 200))\"}\n".utf8)
    }

    @Test("concurrent appends give every line exactly once, whole", arguments: FlushPolicy.Mode.allCases)
    func concurrentAppends(mode: FlushPolicy.Mode) async throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AppendOnlyLogFile(path: path, policy: FlushPolicy(mode: mode, fsyncInterval: 0.05, maxDelay: 0.005))
        let tasks = 50, perTask = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask { for index in 0..<perTask { try await log.append(Self.line(task, index)) } }
            }
            try await group.waitForAll()
        }
        try await log.flush()
        let stats = log.currentStats
        await log.close()
        #expect(stats.linesAppended == tasks * perTask)
        #expect(stats.linesWritten == tasks * perTask)
        #expect(stats.linesDropped == 0)
        #expect(stats.batches <= stats.linesWritten)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == tasks * perTask)
        var seen = Set<String>()
        for line in lines {
            let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "torn: \(line.prefix(80))")
            seen.insert("\(object["task"]!)-\(object["index"]!)")
        }
        #expect(seen.count == tasks * perTask)
    }

    @Test("per task, lines keep their order")
    func orderPerWriter() async throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AppendOnlyLogFile(path: path)
        for index in 0..<500 { try await log.append(Self.line(0, index)) }
        await log.close()
        let indexes = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["index"] as? Int ?? -1
        }
        #expect(indexes == Array(0..<500))
    }

    @Test("appends go to the end of an existing file, which another writer may share")
    func appendsToExisting() async throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("existing\n".utf8).write(to: URL(fileURLWithPath: path))
        let first = try AppendOnlyLogFile(path: path)
        let second = try AppendOnlyLogFile(path: path)
        try await first.append(Array("one\n".utf8))
        try await second.append(Array("two\n".utf8))
        try await first.append(Array("three\n".utf8))
        await first.close()
        await second.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "existing\none\ntwo\nthree\n")
    }

    @Test("buffered mode writes everything by close")
    func bufferedClose() async throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AppendOnlyLogFile(path: path, policy: FlushPolicy(mode: .buffered, fsyncInterval: nil, maxDelay: 10))
        for index in 0..<100 { try await log.append(Self.line(1, index)) }
        await log.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 100)
        await #expect(throws: PipelineError.self) { try await log.append(Self.line(1, 100)) }
    }

    @Test("an unopenable path is an error that says what to do")
    func cannotOpen() {
        do {
            _ = try AppendOnlyLogFile(path: "/nonexistent-dir-\(UUID().uuidString)/app.log")
            Issue.record("expected an error")
        } catch let error as PipelineError {
            #expect(error.code == .cannotOpen)
            #expect(error.message.contains("--log-path"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a failing write keeps the lines and reports the failure", .enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func failingWrite() async throws {
        let log = try AppendOnlyLogFile(path: "/dev/full", policy: .default, maxQueuedBytes: 1000)
        await #expect(throws: PipelineError.self) { try await log.append(Array("a line\n".utf8)) }
        let stats = log.currentStats
        #expect(stats.writeErrors >= 1)
        #expect(stats.linesWritten == 0)
        // Overfilling the queue drops the oldest lines and counts them.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<300 { group.addTask { try? await log.append(Array("0123456789\n".utf8)) } }
        }
        #expect(log.currentStats.linesDropped > 0)
        // Closed within the test: no writer goes on retrying after it (a close gives up on a device
        // that keeps failing after its back-off, about 13 s).
        await log.close()
        #expect(log.currentStats.linesWritten == 0)
    }

    @Test("a file released without close() still writes what was queued, and its thread ends")
    func releasedWithoutClose() async throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Only this test's files' threads are counted (other suites start servers meanwhile).
        let exited = Mutex(0)
        let policy = FlushPolicy(mode: .buffered, fsyncInterval: nil, maxDelay: 0.2)
        for index in 0..<100 {
            // Released at once, often before its thread has first run (that used to crash).
            _ = try AppendOnlyLogFile(path: path, policy: policy, onThreadExit: { exited.withLock { $0 += 1 } })
            let log = try AppendOnlyLogFile(path: path, policy: policy, onThreadExit: { exited.withLock { $0 += 1 } })
            try await log.append(Self.line(0, index))
        }
        var lines = 0
        for _ in 0..<500 {
            lines = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if lines == 100, exited.withLock({ $0 }) == 200 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(lines == 100)
        #expect(exited.withLock { $0 } == 200, "\(200 - exited.withLock { $0 }) writer threads still running")
    }
}
