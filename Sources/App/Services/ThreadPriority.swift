import Foundation
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Lowers the scheduling priority of a thread pool's threads, so that under CPU contention the
/// event loops that answer requests run first.
enum ThreadPriority {
    /// Pools already lowered (a pool such as Vapor's shared blocking pool is lowered once per process).
    private static let lowered = Mutex(Set<ObjectIdentifier>())

    /// Sets every thread of `pool` (which has `threads` threads) to `nice`. Each thread must lower
    /// its own priority, so a barrier asks every thread to take one task. The barrier's waits are
    /// bounded: if the pool is busy, some threads keep their priority rather than anything blocking.
    static func lower(_ pool: NIOThreadPool, threads: Int, nice: Int32) {
        #if os(Linux)
        guard lowered.withLock({ $0.insert(ObjectIdentifier(pool)).inserted }) else { return }
        let arrived = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            pool.submit { _ in
                // On Linux the nice value is per thread: who = 0 is the calling thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                arrived.signal()
                _ = release.wait(timeout: .now() + .seconds(2))
            }
        }
        for _ in 0..<threads where arrived.wait(timeout: .now() + .seconds(2)) == .timedOut { break }
        for _ in 0..<threads { release.signal() }
        #endif
    }
}
