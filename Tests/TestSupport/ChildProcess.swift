import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process with default signal handling and nothing blocked, started with posix_spawn:
/// the test runner blocks signals in its threads and a child would inherit that mask through
/// exec, so a `SIGTERM` sent to a child started by `Process` would stay pending.
public final class ChildProcess {
    public let pid: pid_t
    private var status: Int32?

    public init(_ arguments: [String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, arguments[0], nil, &attributes, argv, environ)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        pid = child
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), text.hasPrefix(arguments[0]) { break }
            usleep(10_000)
        }
    }

    /// Whether it still runs (not ended, not a zombie).
    public var isRunning: Bool {
        guard status == nil, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// Reaps it; answers the signal that ended it (0 when it exited).
    @discardableResult
    public func wait() -> Int32 {
        if status == nil {
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            status = raw
        }
        return status! & 0x7f
    }

    public func stop() {
        if status == nil { kill(pid, SIGKILL); wait() }
    }
}
