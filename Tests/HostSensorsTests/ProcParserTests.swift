import Foundation
import HostSensors
import SecurityModel
import Testing

/// The `/proc` parsers against real captures kept as fixtures (a listening and a connected IPv6
/// TCP pair, an IPv6 UDP socket, a process named `we)ird (name`), awkward and broken lines, and
/// one smoke test against the live `/proc`.
@Suite("Proc parsers")
struct ProcParserTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/proc").path
    static let proc = ProcFileSystem(root: fixtures)

    @Test("status: real and effective user, threads; a malformed Uid line is refused")
    func status() {
        let status = ProcessStatus("Name:\tbash\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\nThreads:\t12\n")
        #expect(status == ProcessStatus(realUID: 1000, effectiveUID: 0, threads: 12))
        #expect(ProcessStatus("Uid:\t1000\n") == nil)
        #expect(ProcessStatus("Name:\tx\n") == nil)
        #expect(ProcessStatus("Uid:\t99999999999\t0\n") == nil, "an overflowing uid is not read as a number")
        #expect(ProcessStatus("Uid: 5 6\nThreads:\tmany\n")?.threads == 1)
    }

    @Test("socket tables: IPv4 and IPv6 addresses, ports, states and inodes; listening sockets")
    func sockets() throws {
        var rejected = 0
        let tcp6 = SocketEntry.parseTable(try Self.proc.text("net/tcp6"), transport: .tcp, rejected: &rejected)
        #expect(rejected == 0)
        #expect(tcp6.count == 3)
        let listener = try #require(tcp6.first)
        #expect(listener.localAddress == IPAddress("::1"))
        #expect(listener.localPort == 0xBCEB)
        #expect(listener.remoteAddress == IPAddress("::"))
        #expect(listener.isListening)
        #expect(tcp6[1].state == 0x01 && tcp6[1].remotePort == 0xBF0E && !tcp6[1].isListening)
        #expect(tcp6.allSatisfy { $0.inode > 0 })
        let udp6 = SocketEntry.parseTable(try Self.proc.text("net/udp6"), transport: .udp, rejected: &rejected)
        #expect(udp6.count == 1 && udp6.first?.localAddress == IPAddress("::1") && udp6.first?.isListening == false)
        let tcp = SocketEntry.parseTable(try Self.proc.text("net/tcp"), transport: .tcp, rejected: &rejected)
        #expect(tcp.first?.localAddress == IPAddress("0.0.0.0") && tcp.first?.localPort == 2024 && tcp.first?.isListening == true)
        // The byte order of an IPv4 word: 0100007F is 127.0.0.1.
        let loopback = SocketEntry("   0: 0100007F:1F90 0A02A8C0:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1", transport: .tcp)
        #expect(loopback?.localAddress == IPAddress("127.0.0.1") && loopback?.localPort == 8080)
        #expect(loopback?.remoteAddress == IPAddress("192.168.2.10") && loopback?.remotePort == 443 && loopback?.uid == 1000)
        // Broken lines are counted, never trapped on.
        var broken = 0
        let none = SocketEntry.parseTable("header\n   0: 0100007F 0A02A8C0:01BB 01\n   1: ZZ:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n   2: 0100007F:FFFFF 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
                                          transport: .tcp, rejected: &broken)
        #expect(none.isEmpty && broken == 3)
        // TIME_WAIT sockets are counted, not parsed, when asked.
        let table = "header\n   0: 0100007F:1F90 0A02A8C0:01BB 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n"
            + "   1: 0100007F:1F91 0A02A8C0:01BB 01 00000000:00000000 00:00000000 00000000     0        0 77 1\n"
        var skipped = 0, rejectedAgain = 0
        let kept = SocketEntry.parseTable(table, transport: .tcp, skippingTimeWait: true, skipped: &skipped, rejected: &rejectedAgain)
        #expect(kept.map(\.inode) == [77] && skipped == 1 && rejectedAgain == 0)
        #expect(SocketEntry.parseTable(table, transport: .tcp, rejected: &rejectedAgain).count == 2)
    }

    @Test("process stat: a name with ')' and spaces, its state, parent and times; truncated lines refused")
    func processStat() throws {
        let stat = try #require(ProcessStat(try Self.proc.text("4242/stat")))
        #expect(stat.name == "we)ird (name")
        #expect(stat.state == "S")
        #expect(stat.parent == 1)
        #expect(stat.startTicks == 3_675_725)
        #expect(stat.virtualBytes == 2_990_080)
        #expect(stat.residentPages == 430)
        #expect(ProcessStat("12 (no end S 1 2 3") == nil)
        #expect(ProcessStat("12 (short) S 1 2 3") == nil)
        #expect(ProcessStat("") == nil)
        let zombie = ProcessStat("77 (defunct) Z 12 77 77 0 -1 4227084 0 0 0 0 3 1 0 0 20 0 1 0 500 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0")
        #expect(zombie?.state == "Z" && zombie?.userTicks == 3 && zombie?.systemTicks == 1)
    }

    @Test("cpu times: the total and each core; usage between two samples; a counter reset gives none")
    func cpu() throws {
        let cores = CPUTimes.parse(try Self.proc.text("stat"))
        #expect(cores.first?.name == "cpu")
        #expect(cores.count >= 2 && cores.dropFirst().allSatisfy { $0.name.hasPrefix("cpu") && $0.name != "cpu" })
        var later = try #require(cores.first)
        let earlier = later
        later.user += 30
        later.idle += 70
        #expect(later.usage(since: earlier) == 0.3)
        #expect(earlier.usage(since: later) == nil)
        #expect(earlier.usage(since: earlier) == nil)
        #expect(CPUTimes.parse("cpu 1 2 3\nintr 5\ncpu0 a b c d e f g h\n").isEmpty)
    }

    @Test("meminfo in bytes; a missing total is refused")
    func memory() throws {
        let memory = try #require(MemoryInfo(try Self.proc.text("meminfo")))
        #expect(memory.total > memory.available && memory.available > 0)
        #expect(memory.total % 1024 == 0)
        #expect(MemoryInfo("MemFree: 10 kB\n") == nil)
        #expect(MemoryInfo("MemTotal: 18446744073709551615 kB\nMemAvailable: 1 kB\n")?.total == .max)
    }

    @Test("bounded reads: a file longer than the limit is cut; a missing one is an error naming it")
    func reads() throws {
        let bytes = try Self.proc.read("meminfo", maxBytes: 10)
        #expect(bytes.count == 10)
        do {
            _ = try Self.proc.read("99999/stat")
            Issue.record("a missing file must fail")
        } catch {
            #expect(error.path.hasSuffix("99999/stat"))
        }
        #expect(Self.proc.processIDs() == [1, 2, 77, 300, 4242, 9000, 9001])
    }

    @Test("the live /proc: this process's own stat and the socket tables parse")
    func live() throws {
        let proc = ProcFileSystem()
        let me = try #require(ProcessStat(try proc.text("self/stat")))
        #expect(me.pid == getpid())
        var rejected = 0
        for (table, transport) in [("net/tcp", SocketEntry.Transport.tcp), ("net/tcp6", .tcp), ("net/udp", .udp), ("net/udp6", .udp)] {
            _ = SocketEntry.parseTable(try proc.text(table), transport: transport, rejected: &rejected)
        }
        #expect(rejected == 0)
        #expect(MemoryInfo(try proc.text("meminfo")) != nil)
        #expect(proc.processIDs().contains(getpid()))
    }
}
