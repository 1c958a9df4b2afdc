import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns the kernel's clock-tick counts into times and shares: ticks per second, the page size,
/// when the host booted, and how long it has been up.
public struct HostClock: Sendable, Equatable {
    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
    public var ticksPerSecond: UInt64
    public var pageSize: UInt64
    /// Boot time, seconds since the Unix epoch (`btime` of `/proc/stat`).
    public var bootTime: Int64
    /// Seconds since boot when sampled (`/proc/uptime`).
    public var uptime: Double

    public init(ticksPerSecond: UInt64, pageSize: UInt64, bootTime: Int64, uptime: Double) {
        self.ticksPerSecond = max(1, ticksPerSecond)
        self.pageSize = pageSize
        self.bootTime = bootTime
        self.uptime = uptime
    }

    /// Reads `stat` and `uptime` under `proc`; nil when either is missing or malformed.
    public init?(proc: ProcFileSystem) {
        guard let stat = try? proc.text("stat"), let uptimeText = try? proc.text("uptime", maxBytes: 256),
              let bootLine = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Int64(bootLine.dropFirst(6).trimmingCharacters(in: .whitespaces)),
              let up = uptimeText.split(separator: " ").first.flatMap({ Double($0) }), up.isFinite, up >= 0 else { return nil }
        self.init(ticksPerSecond: UInt64(max(1, sysconf(Int32(_SC_CLK_TCK)))), pageSize: UInt64(max(1, sysconf(Int32(_SC_PAGESIZE)))),
                  bootTime: boot, uptime: up)
    }

    /// Microseconds since the epoch of a moment `ticks` after boot.
    public func time(afterBootTicks ticks: UInt64) -> Int64 {
        let micros = Double(ticks) / Double(ticksPerSecond) * 1e6
        guard micros.isFinite, micros < 1e17 else { return bootTime &* 1_000_000 }
        return bootTime &* 1_000_000 &+ Int64(micros)
    }

    /// CPU use over a process's life in percent of one core (what `ps` shows as %CPU).
    public func lifetimePercent(cpuTicks: UInt64, startTicks: UInt64) -> Double {
        let alive = uptime - Double(startTicks) / Double(ticksPerSecond)
        guard alive > 0 else { return 0 }
        return Double(cpuTicks) / Double(ticksPerSecond) / alive * 100
    }
}
