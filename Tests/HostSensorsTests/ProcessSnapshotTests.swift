import Foundation
import HostSensors
import SecurityModel
import Testing

/// Processes, sockets and the system read from a fixture tree: a deleted executable, a zombie, a
/// kernel thread, a process that vanishes mid-read, a malformed one, an unreadable one; a huge
/// command line; the process tree; socket owners; disks, interfaces, and what was counted.
@Suite("Host snapshot")
struct ProcessSnapshotTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let proc = ProcFileSystem(root: fixtures + "/proc")
    static let users = UserDirectory(path: fixtures + "/passwd")

    @Test("processes: details, a deleted executable, a zombie, a kernel thread; vanished, malformed and unreadable counted")
    func processes() throws {
        var sampler = ProcessSampler(proc: Self.proc, users: Self.users)
        let snapshot = sampler.sample()
        let byPID = Dictionary(uniqueKeysWithValues: snapshot.processes.map { ($0.pid, $0) })
        #expect(byPID.keys.sorted() == [1, 2, 77, 300, 4242])
        #expect(snapshot.vanished == 1)  // 9000: stat but no status
        #expect(snapshot.malformed == 1 && snapshot.problems.first?.contains("9001/stat") == true)
        #expect(snapshot.unreadable == 1)  // 300: no exe link, fd not a directory

        let weird = try #require(byPID[4242])
        #expect(weird.name == "we)ird (name")
        #expect(weird.user == "alice" && weird.uid == 1000)
        #expect(weird.commandLine == "./we)ird --connect [::1]:48363")
        #expect(weird.executable == "/srv/secmon-fixture/.cache/we)ird" && weird.executableDeleted)
        #expect(weird.currentDirectory == "/srv/secmon-fixture/.cache")
        #expect(weird.socketCount == 2 && Set(weird.socketInodes) == [5_713_595, 5_713_597])
        #expect(weird.threads == 3)
        #expect(weird.residentBytes == 430 * UInt64(sysconf(Int32(_SC_PAGESIZE))))
        // Started 3,675,725 ticks (100 per second) after a boot at 1796158698.
        #expect(weird.startTime == 1_796_158_698_000_000 + 36_757_250_000)
        #expect(weird.cpuPercent == 0)

        let zombie = try #require(byPID[77])
        #expect(zombie.state == "Z" && zombie.stateName == "zombie")
        #expect(zombie.commandLine.isEmpty && zombie.executable == nil && !zombie.executableDeleted)
        let kthreadd = try #require(byPID[2])
        #expect(kthreadd.isKernelThread && kthreadd.commandLine == "[kthreadd]")
        let initProcess = try #require(byPID[1])
        #expect(initProcess.commandLine == "/sbin/init splash" && initProcess.executable == "/usr/lib/systemd/systemd")
        #expect(initProcess.user == "root" && initProcess.socketCount == 0)
        // Lifetime CPU: (700 + 400) ticks over the 39,251.22 s since it started (9 ticks after boot).
        #expect(abs(initProcess.cpuPercent - 11.0 / 39_251.22 * 100) < 1e-9)
        let sshd = try #require(byPID[300])
        #expect(sshd.executable == nil && sshd.commandLine == "/usr/sbin/sshd -D")
    }

    @Test("the process tree: parents before children, depth by ancestry, orphans and cycles kept as roots")
    func tree() throws {
        var sampler = ProcessSampler(proc: Self.proc, users: Self.users)
        let rows = ProcessTree(sampler.sample().processes).rows
        #expect(rows.map(\.process.pid) == [1, 300, 4242, 77, 2])
        #expect(rows.map(\.depth) == [0, 1, 1, 2, 0])
        func process(_ pid: Int32, _ parent: Int32) -> HostProcess {
            HostProcess(pid: pid, parent: parent, uid: 0, user: "root", name: "p", commandLine: "", commandLineTruncated: false, executable: nil,
                        executableDeleted: false, currentDirectory: nil, state: "S", cpuPercent: 0, residentBytes: 0, virtualBytes: 0,
                        startTime: 0, threads: 1, socketCount: 0, isKernelThread: false)
        }
        let cycle = ProcessTree([process(10, 11), process(11, 10), process(12, 99)]).rows
        #expect(Set(cycle.map(\.process.pid)) == [10, 11, 12] && cycle.count == 3)
        // A chain deeper than any recursion would survive.
        let chain = (1...20_000).map { process(Int32($0), Int32($0 - 1)) }
        #expect(ProcessTree(chain).rows.last?.depth == 19_999)
    }

    @Test("sockets: owners through the processes' socket inodes, states by name, listeners")
    func sockets() throws {
        var sampler = ProcessSampler(proc: Self.proc, users: Self.users)
        let result = SocketReader(proc: Self.proc).read(owners: sampler.sample().processes)
        #expect(result.rejected == 0 && result.missingTables.isEmpty)
        let listener = try #require(result.sockets.first { $0.inode == 5_713_595 })
        #expect(listener.proto == "tcp6" && listener.state == "LISTEN" && listener.isListening)
        #expect(listener.pid == 4242 && listener.process == "we)ird (name")
        #expect(listener.localAddress == "::1" && listener.localPort == 48_363)
        let established = try #require(result.sockets.first { $0.inode == 5_713_597 })
        #expect(established.state == "ESTABLISHED" && established.pid == 4242 && !established.isListening)
        // Held by no process read: no owner.
        #expect(result.sockets.first { $0.inode == 5_713_596 }?.pid == nil)
        let udp = try #require(result.sockets.first { $0.proto == "udp6" })
        #expect(udp.state == "UNCONN" && udp.isListening)
        // JSON uses the API's names.
        let json = String(decoding: try JSONEncoder().encode(listener), as: UTF8.self)
        #expect(json.contains("\"protocol\":\"tcp6\"") && json.contains("\"local_port\":48363"))
        // A missing table is named, not fatal.
        let empty = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: "/tmp"), create: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(SocketReader(proc: ProcFileSystem(root: empty.path)).read(owners: []).missingTables == ["tcp", "tcp6", "udp", "udp6"])
    }

    @Test("a huge command line is cut at the byte limit and flagged; a name with a newline parses")
    func hugeCommandLine() throws {
        let root = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: "/tmp"), create: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let proc = root.appendingPathComponent("5000")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try "5000 (two\nlines) S 1 5000 5000 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 100 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0"
            .write(to: proc.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        try "Uid:\t0\t0\t0\t0\n".write(to: proc.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        var huge = Data("python3\0-c\0".utf8)
        huge.append(Data(repeating: UInt8(ascii: "A"), count: 1 << 20))
        try huge.write(to: proc.appendingPathComponent("cmdline"))
        try "cpu  1 0 0 1 0 0 0 0\nbtime 1000\n".write(to: root.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        try "50.0 40.0\n".write(to: root.appendingPathComponent("uptime"), atomically: true, encoding: .utf8)
        var sampler = ProcessSampler(proc: ProcFileSystem(root: root.path), users: Self.users)
        let process = try #require(sampler.sample().processes.first)
        #expect(process.name == "two\nlines")
        #expect(process.commandLineTruncated && process.commandLine.utf8.count == ProcessReader.maxCommandLineBytes)
        #expect(process.commandLine.hasPrefix("python3 -c AAA"))
    }

    @Test("system: disks from mounts (pseudo filesystems left out, escapes decoded), interfaces, load, memory; rates between samples")
    func system() throws {
        let sizes: @Sendable (String) -> SystemSampler.FileSystemSizes? = { path in
            // statvfs on the paths this machine has; the fixture's /srv/data files is not one of them.
            SystemSampler.statvfsSizes(path)
        }
        var sampler = SystemSampler(proc: Self.proc, hostname: "fixture", sizes: sizes)
        let first = sampler.sample(now: 1_000_000)
        #expect(first.hostname == "fixture" && first.cpuPercent == nil && first.corePercents.count == 2)
        #expect(first.load == LoadAverage("0.51 2.34 2.79 1/80 13741") && first.load?.fifteen == 2.79)
        #expect(first.uptimeSeconds == 39_251.31)
        #expect(first.disks.map(\.mountPoint) == ["/", "/dev/shm"])
        #expect(first.disks.allSatisfy { $0.totalBytes >= $0.usedBytes && $0.usedPercent >= 0 && $0.usedPercent <= 100 })
        #expect(first.interfaces.map(\.name) == ["lo", "ifb0", "eth0"])
        #expect(first.interfaces.last?.errors == 3 && first.interfaces.last?.receivedBytes == 163_457_599)
        #expect(first.memoryTotalBytes > first.memoryAvailableBytes && first.memoryPercent > 0 && first.memoryPercent < 100)
        #expect(first.processCount == 7)
        // The broken mount line and the broken interface line.
        #expect(sampler.problems == 2)
        var rejected = 0
        let mounts = MountEntry.parse(try Self.proc.text("mounts"), rejected: &rejected)
        #expect(mounts.contains { $0.mountPoint == "/srv/data files" })
        // The same counters a second later: zero rates, and the same fixture CPU gives no usage.
        let second = sampler.sample(now: 2_000_000)
        #expect(second.cpuPercent == nil && second.interfaces.allSatisfy { $0.receivedBytesPerSecond == 0 })
    }

    @Test("the live host: a full snapshot finds this process, its parent, and the socket it listens on")
    func live() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0 && Glibc.listen(listener, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        var snapshotter = HostSnapshotter()
        _ = snapshotter.take()
        let snapshot = snapshotter.take()
        let me = try #require(snapshot.processes.first { $0.pid == getpid() })
        #expect(me.executable?.isEmpty == false && !me.executableDeleted && me.socketCount >= 1)
        #expect(snapshot.processes.contains { $0.pid == getppid() })
        let mine = try #require(snapshot.sockets.first { $0.localPort == port && $0.state == "LISTEN" })
        #expect(mine.pid == getpid() && mine.localAddress == "127.0.0.1")
        #expect(snapshot.system.cpuPercent != nil && !snapshot.system.disks.isEmpty && snapshot.system.memoryTotalBytes > 0)
        #expect(snapshot.counts.malformed == 0 && snapshot.counts.rejectedSocketLines == 0)
    }
}
