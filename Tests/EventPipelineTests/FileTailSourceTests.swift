import DetectionEngine
import EventPipeline
import Foundation
import LogFormats
import Logging
import SecurityModel
import Synchronization
import Testing

/// Following log files: appends from the file's end, partial lines held until their newline,
/// rotation and truncation followed, bad and over-long lines counted and skipped, and a restart
/// that goes on from the saved position.
@Suite("Tailed log files", .timeLimit(.minutes(5)))
struct FileTailSourceTests {
    final class Collected: Sendable {
        let events = Mutex<[SecurityEvent]>([])
        let positions = Mutex<[FileTailSource.Position]>([])
        var count: Int { events.withLock { $0.count } }
    }

    static func failure(_ n: Int, ip: String = "203.0.113.9") -> String {
        "Dec  2 10:00:\(String(format: "%02d", n % 60)) web-1 sshd[4\(n)]: Failed password for root from \(ip) port \(40000 + n) ssh2\n"
    }

    static func source(_ path: String, _ collected: Collected, intake: EventIntake, saved: [FileTailSource.Position] = []) -> FileTailSource {
        FileTailSource(files: [FileTailSource.Spec(path: path, format: .syslog)], intake: intake,
                       rulesFields: { FieldTable(["outcome"]) }, hostname: "secmon-host", pollSeconds: 0.02,
                       loadPositions: { saved }, savePositions: { positions in collected.positions.withLock { $0 = positions } },
                       onEvent: { event in collected.events.withLock { $0.append(event) } }, logger: Logger(label: "test"))
    }

    static func append(_ path: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    static func wait(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), "waited 5 s for \(what)")
    }

    @Test("appends from the end, partial lines, bad and over-long lines, rotation and truncation")
    func follows() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-tail-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/auth.log"
        // Written before SecMon looked: left to `secmon analyze`.
        try Data((Self.failure(1) + Self.failure(2)).utf8).write(to: URL(fileURLWithPath: path))
        let collected = Collected()
        let intake = EventIntake(budgetBytes: 1 << 22)
        let source = Self.source(path, collected, intake: intake)
        func status() -> FileTailSource.Status { source.statuses[0] }
        try await withServices([source]) {
            try await Self.wait("the file to be followed") { status().state == "following" }
            #expect(status().offset == Int64(Self.failure(1).utf8.count * 2) && status().lines == 0)
            // A whole line, then one written in two parts.
            let split = Self.failure(3, ip: "198.51.100.4")
            try Self.append(path, Self.failure(3) + String(split.prefix(30)))
            try await Self.wait("the first line") { collected.count == 1 }
            try await Task.sleep(for: .milliseconds(100))
            #expect(collected.count == 1, "half a line is not an event")
            try Self.append(path, String(split.dropFirst(30)))
            try await Self.wait("the completed line") { collected.count == 2 }
            // Not a syslog line, then a line of 1.5 MiB, then a good one.
            try Self.append(path, "garbage\n" + String(repeating: "a", count: 3 << 19) + "\n" + Self.failure(4))
            try await Self.wait("the line after the long one") { collected.count == 3 }
            #expect(status().rejected == 1 && status().oversized == 1)
            #expect(status().lastRejection?.hasPrefix("line 4: longer than") == true, "\(status().lastRejection ?? "")")
            // Rotation: a line still written to the old file, then the new file.
            #expect(rename(path, path + ".1") == 0)
            try Self.append(path + ".1", Self.failure(5))
            try Data(Self.failure(6).utf8).write(to: URL(fileURLWithPath: path))
            try await Self.wait("both files' lines") { collected.count == 5 }
            #expect(status().rotations == 1)
            // Truncation in place (copytruncate), then a shorter file.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 0)
            try handle.close()
            try await Task.sleep(for: .milliseconds(100))
            try Self.append(path, "x\n")
            try await Self.wait("the truncation") { status().truncations == 1 && status().rejected == 2 }
            try Self.append(path, Self.failure(7))
            try await Self.wait("the line after truncation") { collected.count == 6 }
        }
        let events = collected.events.withLock { $0 }
        #expect(events.map { $0["source_ip"]?.text } == ["203.0.113.9", "198.51.100.4", "203.0.113.9", "203.0.113.9", "203.0.113.9", "203.0.113.9"])
        let first = try #require(events.first)
        #expect(first.source == .sshd && first["outcome"]?.text == "failure" && first["user"]?.text == "root")
        #expect(first.entities.contains(Entity(.ip, "203.0.113.9")) && first.entities.contains(Entity(.user, "root"))
                && first.entities.contains(Entity(.host, "web-1")))
        #expect(!first.entities.contains { $0.kind == .process }, "a log line's PID is not acted on")
        #expect(first.raw == String(Self.failure(3).dropLast()))
        #expect(intake.statistics.accepted == 6 && intake.statistics.dropped == 0)
    }

    @Test("a restart goes on from the saved position; a file replaced meanwhile is read from its start")
    func resumes() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-tail-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/auth.log"
        try Data().write(to: URL(fileURLWithPath: path))
        let first = Collected()
        let source = Self.source(path, first, intake: EventIntake(budgetBytes: 1 << 22))
        try await withServices([source]) {
            try await Self.wait("the file to be followed") { source.statuses[0].state == "following" }
            try Self.append(path, Self.failure(1) + Self.failure(2) + "half a li")
            try await Self.wait("two lines") { first.count == 2 }
        }
        let saved = first.positions.withLock { $0 }
        // The partial line is not counted as read: it is read whole next time.
        #expect(saved.count == 1 && saved[0].offset == Int64((Self.failure(1) + Self.failure(2)).utf8.count) && saved[0].line == 2)
        // Written while SecMon was stopped.
        try Self.append(path, "ne\n" + Self.failure(3))
        let second = Collected()
        let again = Self.source(path, second, intake: EventIntake(budgetBytes: 1 << 22), saved: saved)
        try await withServices([again]) {
            try await Self.wait("the lines written while stopped") { second.count == 1 && again.statuses[0].rejected == 1 }
        }
        #expect(again.statuses[0].lastRejection?.hasPrefix("line 3:") == true, "\(again.statuses[0].lastRejection ?? "")")
        // Replaced while stopped (another inode): read from its start.
        #expect(unlink(path) == 0)
        try Data((Self.failure(4) + Self.failure(5)).utf8).write(to: URL(fileURLWithPath: path))
        let third = Collected()
        let replaced = Self.source(path, third, intake: EventIntake(budgetBytes: 1 << 22), saved: second.positions.withLock { $0 })
        try await withServices([replaced]) {
            try await Self.wait("the new file's lines") { third.count == 2 }
        }
    }

    @Test("FORMAT:PATH is parsed, and what is wrong is named")
    func specs() throws {
        #expect(try FileTailSource.Spec(parsing: "syslog:/var/log/auth.log") == FileTailSource.Spec(path: "/var/log/auth.log", format: .syslog))
        #expect(try FileTailSource.Spec(parsing: "access:/var/log/nginx/access.log").format == .access)
        for (text, words) in [("/var/log/auth.log", "FORMAT:PATH"), ("nginx:/var/log/x", "not a format"), ("host:/var/log/x", "not a format"),
                              ("json:logs/app.log", "absolute path")] {
            do { _ = try FileTailSource.Spec(parsing: text); Issue.record("\(text) was accepted") } catch {
                #expect(error.description.contains(words), "\(text): \(error)")
            }
        }
    }
}
