import Foundation
@testable import HostSensors
import SecurityModel
import Testing

/// The snapshot's hand-written JSON says exactly what `JSONEncoder` says (parsed back, equal),
/// for the fixture tree, for awkward text, and for this machine.
@Suite("Host snapshot JSON")
struct HostSnapshotJSONTests {
    static func encoderJSON(_ snapshot: HostSnapshot) throws -> Any {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JSONSerialization.jsonObject(with: encoder.encode(snapshot))
    }

    static func expectSame(_ snapshot: HostSnapshot, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let written = try HostSnapshotJSON.encode(snapshot)
        let parsed = try JSONSerialization.jsonObject(with: Data(written))
        let expected = try encoderJSON(snapshot)
        #expect((parsed as? NSDictionary) == (expected as? NSDictionary), sourceLocation: sourceLocation)
    }

    @Test("the fixture tree: the same document as JSONEncoder's")
    func fixtures() throws {
        var snapshotter = HostSnapshotter(proc: ProcessSnapshotTests.proc, users: ProcessSnapshotTests.users)
        let snapshot = snapshotter.take()
        #expect(!snapshot.processes.isEmpty && !snapshot.sockets.isEmpty)
        try Self.expectSame(snapshot)
    }

    @Test("awkward text: quotes, backslashes, control characters, non-ASCII, slashes; doubles and missing owners")
    func awkward() throws {
        var snapshotter = HostSnapshotter(proc: ProcessSnapshotTests.proc, users: ProcessSnapshotTests.users)
        var snapshot = snapshotter.take()
        var process = try #require(snapshot.processes.first)
        process.commandLine = "sh -c \"echo \\\\ \u{1}\u{8}\u{c}\t\r\n\u{1f}\" /tmp/é✓"
        process.name = "a\"b"
        process.executable = nil
        process.cpuPercent = 12.0
        var other = process
        other.cpuPercent = 0.0001
        other.currentDirectory = nil
        snapshot.processes = [process, other]
        var socket = try #require(snapshot.sockets.first)
        socket.pid = nil
        socket.process = nil
        snapshot.sockets = [socket, try #require(snapshot.sockets.last)]
        try Self.expectSame(snapshot)
        let text = String(decoding: try HostSnapshotJSON.encode(snapshot), as: UTF8.self)
        #expect(text.contains(#"\u0001"#) && text.contains("/tmp/é✓") && !text.contains(#"\/"#))
    }

    @Test("this machine: the same document as JSONEncoder's")
    func live() throws {
        var snapshotter = HostSnapshotter(proc: ProcFileSystem(), users: UserDirectory(path: "/etc/passwd"))
        try Self.expectSame(snapshotter.take())
    }
}
