import Foundation
import HostSensors
import TestSupport
import Testing
@testable import HostResponse
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory, removed with the value.
final class Scratch {
    let path: String
    init(in base: String = FileManager.default.temporaryDirectory.path) throws {
        path = base + "/secmon-hr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("Quarantine")
struct QuarantineTests {
    static func bytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed
        return Data((0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        })
    }

    static func info(_ path: String) -> stat {
        var info = stat()
        _ = lstat(path, &info)
        return info
    }

    /// Quarantines and restores a file in `source`, quarantine directory `vault`: bit for bit, owner, mode and time.
    static func roundTrip(source: String, vault: String) throws {
        let path = source + "/dropper"
        let content = bytes(3 * 1024 * 1024 + 17, seed: 9)
        try content.write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o4750) == 0)
        if getuid() == 0 { #expect(chown(path, 1234, 5678) == 0) }
        #expect(chmod(path, 0o4750) == 0)
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let before = info(path)

        let quarantine = Quarantine(directory: vault)
        let record = try quarantine.quarantine(path)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(info(quarantine.storedPath(record.id)).st_mode & 0o7777 == 0, "no permissions in quarantine")
        #expect(info(vault).st_mode & 0o777 == 0o700)
        #expect(record.size == UInt64(content.count) && record.mode == 0o4750 && record.uid == before.st_uid && record.gid == before.st_gid)
        #expect(record.mtimeSeconds == 1_700_000_000 && record.mtimeNanoseconds == 123_456_789)
        #expect(quarantine.records() == [record])

        try quarantine.restore(record)
        let after = info(path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == content)
        #expect(after.st_mode & 0o7777 == 0o4750 && after.st_uid == before.st_uid && after.st_gid == before.st_gid)
        #expect(after.st_mtim.tv_sec == 1_700_000_000 && after.st_mtim.tv_nsec == 123_456_789)
        #expect(quarantine.records().isEmpty && !FileManager.default.fileExists(atPath: quarantine.storedPath(record.id)))
    }

    @Test("quarantine and restore round-trip bit for bit, with owner, mode (setuid included) and time")
    func roundTripSameFileSystem() throws {
        let dir = try Scratch()
        try Self.roundTrip(source: dir.path, vault: dir.path + "/quarantine")
    }

    @Test("across file systems (/tmp to /dev/shm) the copy is verified before the original goes")
    func roundTripAcrossFileSystems() throws {
        let dir = try Scratch()
        guard FileManager.default.fileExists(atPath: "/dev/shm"), let shm = try? Scratch(in: "/dev/shm") else { return }
        guard Self.info(dir.path).st_dev != Self.info(shm.path).st_dev else { return }
        try Self.roundTrip(source: dir.path, vault: shm.path + "/quarantine")
    }

    @Test("a restore onto a path that exists now, or of a copy that changed in quarantine, is refused and changes nothing")
    func refusedRestores() throws {
        let dir = try Scratch()
        let path = dir.path + "/tool"
        try Data("original".utf8).write(to: URL(fileURLWithPath: path))
        let quarantine = Quarantine(directory: dir.path + "/q")
        let record = try quarantine.quarantine(path)
        try Data("new file".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: Quarantine.Refusal.self) { try quarantine.restore(record) }
        do { try quarantine.restore(record) } catch { #expect(error.description.contains("exists now")) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new file")
        #expect(FileManager.default.fileExists(atPath: quarantine.storedPath(record.id)))
        try FileManager.default.removeItem(atPath: path)
        // The quarantined bytes change: never restored.
        #expect(chmod(quarantine.storedPath(record.id), 0o600) == 0)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: quarantine.storedPath(record.id)))
        do { try quarantine.restore(record); Issue.record("a changed copy was restored") } catch { #expect(error.description.contains("changed in quarantine")) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("protected paths, directories, links and missing files are refused with the reason")
    func refusals() throws {
        let dir = try Scratch()
        try FileManager.default.createDirectory(atPath: dir.path + "/sub", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path + "/keep.conf"))
        #expect(symlink(dir.path + "/keep.conf", dir.path + "/link") == 0)
        let quarantine = Quarantine(directory: dir.path + "/q", protected: [dir.path + "/keep.conf", "/var/lib/secmon/"])
        for (path, words) in [("/proc/self/status", "protected"), (dir.path + "/keep.conf", "protected"), (dir.path + "/sub", "directory"),
                              (dir.path + "/link", "symbolic link"), (dir.path + "/missing", "No such file"), ("relative/path", "absolute"),
                              ("/var/lib/secmon/data/secmon.sqlite", "protected"), (dir.path + "/q/anything", "protected")] {
            do { try quarantine.check(path); Issue.record("\(path) was allowed") } catch {
                #expect(error.description.contains(words), "\(path): \(error)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: dir.path + "/keep.conf"))
    }

    @Test("an automatic quarantine never takes a file in the system's directories; a person's may")
    func systemDirectories() throws {
        let quarantine = Quarantine(directory: try Scratch().path + "/q")
        for path in ["/usr/bin/bash", "/bin/sh", "/etc/passwd", "/usr/../etc/shadow", "/lib/x86_64-linux-gnu/libc.so.6", "/var/lib/dpkg/status"] {
            #expect(Quarantine.systemDirectory(of: path) != nil, "\(path)")
            do { try quarantine.check(path, automatic: true); Issue.record("\(path) was allowed") } catch {
                #expect(error.description.contains("system's directory") && error.description.contains("only when a person asks"))
            }
        }
        #expect(Quarantine.systemDirectory(of: "/tmp/usr/bin/x") == nil && Quarantine.systemDirectory(of: "/usr") == "/usr/")
        #expect(Quarantine.systemDirectory(of: "/home/alice/.local/bin/miner") == nil)
        // A person's check of the same file passes the system rule (it is a readable regular file).
        #expect(throws: Never.self) { try quarantine.check("/etc/hostname") }
    }
}

@Suite("Process termination", .timeLimit(.minutes(2)))
struct ProcessTerminatorTests {
    typealias Child = ChildProcess

    @Test("TERM ends a process within the grace period")
    func terminates() throws {
        let sleeper = try Child(["/bin/sleep", "30"])
        defer { sleeper.stop() }
        let terminator = ProcessTerminator(allowlist: [], graceMilliseconds: 3000)
        let target = try #require(terminator.target(sleeper.pid))
        #expect(target.name == "sleep")
        let outcome = try terminator.terminate(target)
        guard case .terminated = outcome else { Issue.record("not terminated by TERM: \(outcome)"); return }
        #expect(sleeper.wait() == SIGTERM)
    }

    @Test("a process that ignores TERM is killed after the grace period")
    func kills() throws {
        let stubborn = try Child(["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"])
        defer { stubborn.stop() }
        usleep(100_000)
        let terminator = ProcessTerminator(allowlist: [], graceMilliseconds: 400)
        let target = try #require(terminator.target(stubborn.pid))
        let outcome = try terminator.terminate(target)
        guard case .killed(let ms) = outcome else { Issue.record("\(outcome)"); return }
        #expect(ms >= 400)
        #expect(stubborn.wait() == SIGKILL)
    }

    @Test("a process gone before the signal, a reused PID and a dry run send nothing")
    func nothingSent() throws {
        let quick = try Child(["/bin/true"])
        let terminator = ProcessTerminator(allowlist: [], graceMilliseconds: 500)
        let stale = ProcessTerminator.Target(pid: quick.pid, startTicks: terminator.target(quick.pid)?.startTicks ?? 1, name: "true")
        quick.wait()
        #expect(try terminator.terminate(stale) == .alreadyGone)

        let sleeper = try Child(["/bin/sleep", "30"])
        defer { sleeper.stop() }
        let target = try #require(terminator.target(sleeper.pid))
        // The same PID with another start time is another process: untouched.
        var reused = target
        reused.startTicks &+= 1
        #expect(try terminator.terminate(reused) == .alreadyGone)
        #expect(try terminator.terminate(target, dryRun: true) == .wouldTerminate)
        usleep(50_000)
        #expect(sleeper.isRunning)
    }

    @Test("an alert's PID is acted on only while it runs the process the alert saw: started by then, same executable")
    func alertProcess() throws {
        let sleeper = try Child(["/bin/sleep", "30"])
        defer { sleeper.stop() }
        let terminator = ProcessTerminator(allowlist: [], graceMilliseconds: 3000)
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(sleeper.pid)/exe")
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let micros = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        // Seen now, running the file the alert names: the process the alert saw.
        let target = try #require(try terminator.target(alertPID: sleeper.pid, seenBy: micros, executable: executable))
        #expect(target.pid == sleeper.pid && target.name == "sleep" && target == terminator.target(sleeper.pid))
        #expect(try terminator.target(alertPID: sleeper.pid, seenBy: micros, executable: nil) == target)
        // An alert from a minute ago: this process started after it, so the PID was reused.
        do { _ = try terminator.target(alertPID: sleeper.pid, seenBy: micros - 60_000_000, executable: nil); Issue.record("a later process was taken") } catch {
            #expect(error.description.contains("started after the alert") && error.description.contains("reused"))
        }
        // Another executable under the alert's PID: not the same process.
        do { _ = try terminator.target(alertPID: sleeper.pid, seenBy: micros, executable: "/usr/bin/nc"); Issue.record("another executable was taken") } catch {
            #expect(error.description.contains("not the alert's /usr/bin/nc"))
        }
        #expect(sleeper.isRunning)
        // A PID that no process has: nothing to do.
        let quick = try Child(["/bin/true"])
        quick.wait()
        #expect(try terminator.target(alertPID: quick.pid, seenBy: micros, executable: nil) == nil)
        #expect(try terminator.target(alertPID: 0, seenBy: micros, executable: nil) == nil)
    }

    @Test("PID 1, SecMon itself, its parent, kernel threads and allowlisted processes are refused")
    func refusals() throws {
        let terminator = ProcessTerminator(allowlist: ["sleep"], graceMilliseconds: 100)
        func reason(_ pid: Int32) -> String {
            guard let target = terminator.target(pid) ?? (pid == 1 ? .init(pid: 1, startTicks: 0, name: "init") : nil) else { return "no such process" }
            do { try terminator.check(target); return "allowed" } catch { return error.description }
        }
        #expect(reason(1).contains("init"))
        #expect(reason(getpid()).contains("SecMon itself"))
        #expect(reason(getppid()).contains("ancestor"))
        let sleeper = try Child(["/bin/sleep", "30"])
        defer { sleeper.stop() }
        #expect(reason(sleeper.pid).contains("allowlisted ('sleep')"))
        #expect(throws: ProcessTerminator.Refusal.self) { try terminator.terminate(terminator.target(sleeper.pid)!) }
        #expect(sleeper.isRunning)
        // A kernel thread, where this machine shows them (not inside a container's PID namespace).
        let kernelThread = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init).first { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).flatMap(ProcessStat.init)?.isKernelThread == true
        }
        if let kernelThread { #expect(reason(kernelThread).contains("kernel thread")) }
    }
}
