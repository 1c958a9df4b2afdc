import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import HostSensors
import LogFormats
import SecurityModel
import Synchronization
import Testing

/// Processes and connections the tests start, seen by the sensors (the process connector, the
/// polling fallback, the socket tables) and detected by rules written in the form of SigmaHQ's
/// Linux rules and by the pack's host rules.
@Suite("Host detection", .serialized)
struct HostDetectionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Starts `/bin/sh -c script marker` and returns the process.
    static func shell(_ script: String, marker: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, marker]
        try process.run()
        return process
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("the process connector sees a process the test starts, with its command line and parent")
    func connector() async throws {
        let marker = "secmon-cnproc-\(UUID().uuidString)"
        let seen = Mutex<[ProcessWatcher.Start]>([])
        let watcher = ProcessWatcher { start in seen.withLock { $0.append(start) } }
        let mode = watcher.start()
        // CI runs as root, where the connector works; elsewhere the fallback must say why.
        if getuid() == 0 {
            #expect(mode == .connector, "\(watcher.statistics.fallbackReason ?? "")")
        } else {
            #expect(mode == .polling && watcher.statistics.fallbackReason?.contains("root") == true)
        }
        let child = try Self.shell("sleep 0.5", marker: marker)
        let found = try await Self.eventually(5) { seen.withLock { $0.contains { $0.process.commandLine.contains(marker) } } }
        // The sleep the shell runs is a start of its own (an exec, with or without a fork).
        let sawSleep = try await Self.eventually(5) { seen.withLock { $0.contains { $0.process.commandLine == "sleep 0.5" } } }
        await watcher.stop()
        child.waitUntilExit()
        #expect(found)
        let start = try #require(seen.withLock { $0.first { $0.process.commandLine.contains(marker) } })
        #expect(start.process.executable?.hasSuffix("sh") == true || start.process.executable?.hasSuffix("dash") == true || start.process.executable?.hasSuffix("bash") == true)
        #expect(start.process.commandLine.hasPrefix("/bin/sh -c sleep 0.5"))
        #expect(start.parent?.pid == getpid())
        #expect(start.process.user == (getuid() == 0 ? "root" : start.process.user))
        #expect(sawSleep || mode == .polling)
    }

    @Test("polling, the fallback, sees a process that lives longer than the interval")
    func polling() async throws {
        let marker = "secmon-poll-\(UUID().uuidString)"
        let seen = Mutex<[ProcessWatcher.Start]>([])
        let watcher = ProcessWatcher(pollInterval: .milliseconds(100), useConnector: false) { start in seen.withLock { $0.append(start) } }
        #expect(watcher.start() == .polling)
        #expect(watcher.statistics.fallbackReason == "polling was asked for")
        let child = try Self.shell("sleep 1", marker: marker)
        let found = try await Self.eventually(5) { seen.withLock { $0.contains { $0.process.commandLine.contains(marker) } } }
        await watcher.stop()
        child.waitUntilExit()
        #expect(found)
    }

    @Test("connector messages: exec, fork of a process (not of a thread), exit; truncated and foreign messages give nothing")
    func connectorMessages() {
        func message(what: UInt32, words: [Int32], idx: UInt32 = 1) -> [UInt8] {
            var bytes: [UInt8] = []
            func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            let length = 16 + 20 + 16 + words.count * 4
            put(UInt32(length)); put(3); put(0); put(0)  // nlmsghdr (type and flags in one word)
            put(idx); put(1); put(0); put(0); put(UInt32(16 + words.count * 4))  // cn_msg (len and flags in one word)
            put(what); put(0); put(0); put(0)  // what, cpu, timestamp
            for word in words { put(UInt32(bitPattern: word)) }
            return bytes
        }
        func parse(_ bytes: [UInt8]) -> [ProcessConnectorMessage] { bytes.withUnsafeBytes { ProcessConnectorMessage.parse($0) } }
        #expect(parse(message(what: 2, words: [501, 500])) == [.exec(pid: 500)])
        #expect(parse(message(what: 1, words: [10, 10, 600, 600])) == [.fork(parent: 10, child: 600)])
        #expect(parse(message(what: 1, words: [10, 10, 601, 600])) == [.other])  // a thread
        #expect(parse(message(what: 0x8000_0000, words: [700, 700, 0, 9, 1, 1])) == [.exit(pid: 700)])
        #expect(parse(message(what: 0, words: [0])) == [.other])  // the subscription's reply
        #expect(parse(message(what: 2, words: [501, 500], idx: 7)).isEmpty)  // another connector
        #expect(parse(Array(message(what: 2, words: [501, 500]).prefix(30))).isEmpty)
        #expect(parse([]).isEmpty)
        // Two messages in one datagram; a length that runs past the end stops the walk.
        #expect(parse(message(what: 2, words: [1, 1]) + message(what: 2, words: [2, 2])) == [.exec(pid: 1), .exec(pid: 2)])
        var broken = message(what: 2, words: [1, 1])
        broken[0] = 0xFF
        #expect(parse(broken).isEmpty)
    }

    @Test("the connection tracker: the first reading primes; new connections (initiated or not) and listeners after it")
    func tracker() {
        func socket(_ proto: String, _ local: String, _ localPort: UInt16, _ remote: String, _ remotePort: UInt16, _ state: String) -> HostSocket {
            var entry = SocketEntry("   0: 00000000:0000 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1", transport: .tcp)!
            entry.localAddress = IPAddress(local)!
            entry.localPort = localPort
            entry.remoteAddress = IPAddress(remote)!
            entry.remotePort = remotePort
            var result = HostSocket(entry, proto: proto, owner: nil)
            result.state = state
            return result
        }
        var tracker = ConnectionTracker()
        let initial = [socket("tcp", "0.0.0.0", 22, "0.0.0.0", 0, "LISTEN"), socket("tcp", "10.0.0.5", 22, "192.0.2.1", 50000, "ESTABLISHED")]
        let first = tracker.update(initial)
        #expect(first.connections.isEmpty && first.listeners.isEmpty)
        let later = initial + [
            socket("tcp", "10.0.0.5", 22, "192.0.2.9", 50001, "ESTABLISHED"),  // inbound to sshd
            socket("tcp", "10.0.0.5", 41000, "203.0.113.66", 443, "SYN_SENT"),  // outbound
            socket("tcp6", "::", 4444, "::", 0, "LISTEN"),
            socket("tcp", "10.0.0.5", 41001, "203.0.113.66", 443, "TIME_WAIT"),  // closing: not new
        ]
        let second = tracker.update(later)
        #expect(second.connections.map(\.socket.remoteAddress) == ["192.0.2.9", "203.0.113.66"])
        #expect(second.connections.map(\.initiated) == [false, true])
        #expect(second.listeners.map(\.localPort) == [4444])
        // Nothing new the next time; a reconnection after a close is new again.
        #expect(tracker.update(later).connections.isEmpty)
        _ = tracker.update(initial)
        #expect(tracker.update(later).connections.count == 2)
    }

    @Test("Sigma-form rules and the pack's host rules fire on processes and a connection the test starts")
    func sigmaRulesOnLiveActivity() async throws {
        // Written in the form of SigmaHQ's rules/linux/process_creation and network_connection.
        let rules = """
            title: Decoding Base64 on the command line
            id: 5b3a1d7e-52d8-4b8e-9d84-6c8a4f0c1a01
            status: test
            logsource:
                product: linux
                category: process_creation
            detection:
                selection:
                    Image|endswith: '/base64'
                    CommandLine|contains: '-d'
                condition: selection
            level: low
            ---
            title: Shell making a network connection
            id: 5b3a1d7e-52d8-4b8e-9d84-6c8a4f0c1a02
            status: test
            logsource:
                product: linux
                category: network_connection
            detection:
                selection:
                    Image|endswith:
                        - '/bash'
                        - '/dash'
                        - '/sh'
                filter:
                    DestinationIp: '0.0.0.0'
                condition: selection and not filter
            level: high
            """
        var sources = RuleDirectory.read(Self.repository.appendingPathComponent("rules/secmon").path).sources
        sources.append(RuleSource(path: "sigma-form.yml", text: rules))
        let loaded = RuleLoader.load(sources)
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")

        // A loopback listener for the shell to connect to.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        _ = Glibc.listen(listener, 4)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        let events = Mutex<[SecurityEvent]>([])
        var configuration = HostMonitor.Configuration()
        configuration.networkInterval = .milliseconds(100)
        configuration.systemInterval = .milliseconds(200)
        configuration.includeLoopback = true  // the test's connection stays on loopback
        let monitor = HostMonitor(configuration: configuration) { event in events.withLock { $0.append(event) } }
        let intake = EventIntake(budgetBytes: 16 << 20)
        let running = Task { try await monitor.run(into: intake) }
        // Let the first reading prime the connection tracker.
        #expect(try await Self.eventually(5) { monitor.latest != nil })

        let marker = "secmon-sigma-\(UUID().uuidString)"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(marker).b64")
        try Data("aGVsbG8K".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // base64 waits for its input half a second: long enough to be read after its exec (a
        // process that ends first is counted as missed, its command line unknown).
        let decode = try Self.shell("(sleep 0.5; cat \(file.path)) | base64 -d > /dev/null", marker: marker)
        // A shell holding a connection open, the way a reverse shell does (to loopback only);
        // /dev/tcp is bash's.
        let viaBash = Process()
        viaBash.executableURL = URL(fileURLWithPath: "/bin/bash")
        viaBash.arguments = ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port); sleep 1; exit 0", marker]
        try viaBash.run()

        let sawConnection = try await Self.eventually(6) {
            events.withLock { $0.contains { $0.source == .networkConnection && $0["DestinationPort"] == .int(Int64(port)) && $0["Initiated"] == .string("true") } }
        }
        let sawDecode = try await Self.eventually(5) {
            events.withLock { $0.contains { $0.source == .processCreation && ($0["Image"]?.text ?? "").hasSuffix("/base64") } }
        }
        running.cancel()
        _ = try? await running.value
        decode.waitUntilExit()
        viaBash.waitUntilExit()
        #expect(sawConnection && sawDecode)
        #expect(monitor.statistics.readings > 1 && intake.statistics.accepted == events.withLock { $0.count })

        // Through the host log format, as `secmon analyze --format host` reads logs/host.log.
        let encoder = HostEventEncoder()
        var analyzer = Analyzer(rules: loaded.ruleSet, options: .init(format: .host, referenceTime: Timestamp.now()))
        analyzer.beginInput("host.log")
        for event in events.withLock({ $0 }) {
            var line = encoder.encode(event)
            line.removeLast()
            line.withUnsafeBufferPointer { analyzer.feed($0) }
        }
        let report = analyzer.finish()
        #expect(report.totalRejected == 0 && report.inputs.count == 1)
        let fired = Set(report.alerts.map(\.rule.label))
        #expect(fired.contains("5b3a1d7e-52d8-4b8e-9d84-6c8a4f0c1a01"), "\(fired)")  // labelled by id: it has no name
        #expect(fired.contains("5b3a1d7e-52d8-4b8e-9d84-6c8a4f0c1a02"), "\(fired) \(events.withLock { $0.filter { $0.source == .networkConnection }.map(\.fields) })")
        // The pack's reverse-shell rule sees bash's /dev/tcp.
        #expect(fired.contains("H-06"), "\(fired)")
    }
}
