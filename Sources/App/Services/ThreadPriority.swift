import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Lowers the scheduling priority of a thread pool's threads, so that under CPU contention the
/// event loops that answer requests run first.
enum ThreadPriority {
    /// Sets every thread of `pool` (which has `threads` threads) to `nice`. Each thread must lower
    /// its own priority, so a barrier makes every thread take exactly one task.
    static func lower(_ pool: NIOThreadPool, threads: Int, nice: Int32) {
        #if os(Linux)
        let arrived = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            pool.submit { _ in
                // On Linux the nice value is per thread: who = 0 is the calling thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                arrived.signal()
                release.wait()
            }
        }
        for _ in 0..<threads { arrived.wait() }
        for _ in 0..<threads { release.signal() }
        #endif
    }
}
