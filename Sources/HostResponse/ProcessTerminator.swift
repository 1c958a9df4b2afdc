import Foundation
import HostSensors
#if canImport(Glibc)
import Glibc
#endif

/// Ends a process as an administrator would: `SIGTERM`, then `SIGKILL` if it is still there
/// after a grace period. It acts only on the process that was chosen (same PID *and* start
/// time, so a reused PID is never hit) and refuses PID 1, SecMon itself and its ancestors,
/// kernel threads, and allowlisted names or executables, saying which rule refused.
public struct ProcessTerminator: Sendable {
    /// Processes never terminated, by name (`comm`) or executable path.
    public var allowlist: [String]
    /// How long a process has after `SIGTERM`, in milliseconds.
    public var graceMilliseconds: Int
    /// Where `/proc` is (tests may point elsewhere only for refusals).
    public var proc: String

    public init(allowlist: [String] = ProcessTerminator.bundledAllowlist, graceMilliseconds: Int = 5000, proc: String = "/proc") {
        self.allowlist = allowlist
        self.graceMilliseconds = graceMilliseconds
        self.proc = proc
    }

    /// What a host cannot lose: its init, its login and the database SecMon may use.
    public static let bundledAllowlist = ["systemd", "init", "sshd", "systemd-journald", "systemd-logind", "dbus-daemon", "postgres"]

    /// The process as chosen: its PID and start time (from the process list), so the same one is ended.
    public struct Target: Sendable, Equatable, Codable {
        public var pid: Int32
        public var startTicks: UInt64
        public var name: String

        public init(pid: Int32, startTicks: UInt64, name: String) {
            self.pid = pid
            self.startTicks = startTicks
            self.name = name
        }
    }

    /// How it ended.
    public enum Outcome: Sendable, Equatable {
        /// It ended within the grace period after `SIGTERM`.
        case terminated(milliseconds: Int)
        /// It was still there after the grace period, and `SIGKILL` ended it.
        case killed(milliseconds: Int)
        /// It had already exited (or its PID now belongs to another process): nothing was sent.
        case alreadyGone
        /// A dry run: what would have been done.
        case wouldTerminate

        public var summary: String {
            switch self {
            case .terminated(let ms): "ended \(ms) ms after SIGTERM"
            case .killed(let ms): "still running after the grace period; SIGKILL ended it (\(ms) ms in all)"
            case .alreadyGone: "had already exited: nothing was sent"
            case .wouldTerminate: "would have been sent SIGTERM, then SIGKILL after the grace period (dry run)"
            }
        }
    }

    /// Why a process is not terminated.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The target of a running `pid`, read now (for the process page's button).
    public func target(_ pid: Int32) -> Target? {
        guard let stat = readStat(pid) else { return nil }
        return Target(pid: pid, startTicks: stat.startTicks, name: stat.name)
    }

    /// The process an alert named, as it runs now, if it is still the one the alert saw: it
    /// started no later than `seenBy` (the alert's last event, microseconds since 1970; one second
    /// of slack for the clocks), and, when the alert names its executable, it runs that file. A
    /// PID reused by a later process is refused, as is one whose executable cannot be read to
    /// compare. Nil when no process has the PID now (it exited).
    public func target(alertPID pid: Int32, seenBy: Int64, executable: String?) throws(Refusal) -> Target? {
        guard pid > 0, let stat = readStat(pid) else { return nil }
        guard stat.state != "Z" && stat.state != "X" else { return nil }
        if let started = startTime(ticks: stat.startTicks), started > seenBy &+ 1_000_000 {
            throw Refusal(description: "PID \(pid) now belongs to \(stat.name), which started after the alert: the alert's process has exited and its PID was reused; nothing was sent")
        }
        if let executable {
            guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/\(pid)/exe") else {
                throw Refusal(description: "the executable of PID \(pid) cannot be read to check it is the alert's \(executable); nothing was sent")
            }
            let path = running.hasSuffix(" (deleted)") ? String(running.dropLast(10)) : running
            guard path == executable else {
                throw Refusal(description: "PID \(pid) now runs \(path), not the alert's \(executable): not the same process; nothing was sent")
            }
        }
        return Target(pid: pid, startTicks: stat.startTicks, name: stat.name)
    }

    /// When a process started `ticks` after boot, in microseconds since 1970, from the clock now
    /// less the uptime (`/proc/uptime`, to a hundredth of a second). Nil when it cannot be read.
    func startTime(ticks: UInt64) -> Int64? {
        guard let text = try? String(contentsOfFile: "\(proc)/uptime", encoding: .utf8),
              let uptime = text.split(separator: " ").first.flatMap({ Double($0) }), uptime.isFinite, uptime >= 0 else { return nil }
        let hertz = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nowMicros = Double(now.tv_sec) * 1e6 + Double(now.tv_nsec) / 1e3
        let started = nowMicros - uptime * 1e6 + Double(ticks) / hertz * 1e6
        guard started.isFinite, abs(started) < 1e17 else { return nil }
        return Int64(started)
    }

    /// Checks every refusal rule for `target`, without sending anything.
    public func check(_ target: Target) throws(Refusal) {
        guard target.pid > 1 else { throw Refusal(description: "PID \(target.pid) is the system's init: never terminated") }
        let own = getpid()
        guard target.pid != own else { throw Refusal(description: "PID \(target.pid) is SecMon itself") }
        var ancestor = getppid()
        var steps = 0
        while ancestor > 1 && steps < 64 {
            guard target.pid != ancestor else {
                throw Refusal(description: "PID \(target.pid) (\(target.name)) is an ancestor of SecMon (its service manager or shell): never terminated")
            }
            guard let stat = readStat(ancestor) else { break }
            ancestor = stat.parent
            steps += 1
        }
        guard let stat = readStat(target.pid), stat.startTicks == target.startTicks else { return }
        if stat.isKernelThread || stat.parent == 2 || target.pid == 2 {
            throw Refusal(description: "PID \(target.pid) (\(stat.name)) is a kernel thread: signals do not stop it")
        }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/\(target.pid)/exe")) ?? ""
        if let rule = allowlist.first(where: { $0 == stat.name || (!exe.isEmpty && $0 == exe) }) {
            throw Refusal(description: "PID \(target.pid) (\(stat.name)) is allowlisted ('\(rule)'): remove it from the allowlist to act on it")
        }
    }

    /// Terminates `target` (after ``check(_:)``): `SIGTERM`, then `SIGKILL` after the grace period.
    /// Blocking for up to the grace period and a second more; run it off an event loop.
    public func terminate(_ target: Target, dryRun: Bool = false) throws(Refusal) -> Outcome {
        try check(target)
        guard isSame(target) else { return .alreadyGone }
        if dryRun { return .wouldTerminate }
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) }
        if kill(target.pid, SIGTERM) != 0 {
            if errno == ESRCH { return .alreadyGone }
            throw Refusal(description: "SIGTERM to PID \(target.pid) failed: \(String(cString: strerror(errno)))")
        }
        let deadline = started + UInt64(max(0, graceMilliseconds)) * 1_000_000
        while DispatchTime.now().uptimeNanoseconds < deadline {
            if !isRunning(target) { return .terminated(milliseconds: elapsed()) }
            usleep(20_000)
        }
        if !isRunning(target) { return .terminated(milliseconds: elapsed()) }
        // Still the same process: kill it.
        guard isSame(target) else { return .terminated(milliseconds: elapsed()) }
        if kill(target.pid, SIGKILL) != 0 && errno != ESRCH {
            throw Refusal(description: "SIGKILL to PID \(target.pid) failed: \(String(cString: strerror(errno)))")
        }
        let killDeadline = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
        while isRunning(target) && DispatchTime.now().uptimeNanoseconds < killDeadline { usleep(10_000) }
        return .killed(milliseconds: elapsed())
    }

    /// Whether `target`'s PID still belongs to the process chosen.
    func isSame(_ target: Target) -> Bool {
        readStat(target.pid)?.startTicks == target.startTicks
    }

    /// Whether the process chosen still runs (a zombie, waiting for its parent to reap it, has ended).
    func isRunning(_ target: Target) -> Bool {
        guard let stat = readStat(target.pid), stat.startTicks == target.startTicks else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    func readStat(_ pid: Int32) -> ProcessStat? {
        guard let text = try? String(contentsOfFile: "\(proc)/\(pid)/stat", encoding: .utf8) else { return nil }
        return ProcessStat(text)
    }
}
