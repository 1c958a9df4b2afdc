/// When a line of the activity log counts as safely written, and so what a crash can lose.
///
/// | mode | a request is answered after its line is | a process crash loses | a power loss loses |
/// |---|---|---|---|
/// | `written` (default) | handed to the kernel (`write(2)`) | nothing that was answered | up to `fsyncInterval` |
/// | `synced` | written and `fsync`ed | nothing that was answered | nothing that was answered |
/// | `buffered` | queued in memory | up to `maxDelay` of lines | up to `maxDelay` + `fsyncInterval` |
///
/// Lines that arrive while a write is in progress are written together by the next one (group
/// commit), so `written` and `synced` cost one system call per batch, not per line. In `written`
/// mode the request that finds no write in progress does the `write(2)` itself, without a thread hop.
public struct FlushPolicy: Sendable, Equatable, CustomStringConvertible {
    /// What an `append` waits for.
    public enum Mode: String, Sendable, CaseIterable {
        case written, synced, buffered
    }

    /// What an `append` waits for.
    public var mode: Mode
    /// In `written` and `buffered` modes, the longest time between `fsync` calls, in seconds; `nil` never calls `fsync`.
    public var fsyncInterval: Double?
    /// In `buffered` mode, the longest time a line waits in memory before it is written, in seconds.
    public var maxDelay: Double

    /// The default: `written`, `fsync` every second.
    public static let `default` = FlushPolicy(mode: .written, fsyncInterval: 1.0, maxDelay: 0.05)

    public init(mode: Mode, fsyncInterval: Double? = 1.0, maxDelay: Double = 0.05) {
        self.mode = mode
        self.fsyncInterval = fsyncInterval
        self.maxDelay = maxDelay
    }

    public var description: String {
        switch mode {
        case .synced: return "synced (fsync before each answer)"
        case .written: return "written (fsync every \(fsyncInterval.map { "\($0)s" } ?? "never"))"
        case .buffered: return "buffered (write within \(maxDelay)s, fsync every \(fsyncInterval.map { "\($0)s" } ?? "never"))"
        }
    }
}
