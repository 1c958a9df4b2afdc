import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An append-only file of lines, written by one dedicated thread with group commit.
///
/// Callers hand over whole lines; the writer thread takes everything pending and writes it with
/// as few `write(2)` calls as possible on a descriptor opened with `O_APPEND`. A line is never
/// split across writes by another line, so lines never interleave or tear, even with several
/// processes appending to the same file. What `append` waits for, and when the file is
/// `fsync`ed, is the `FlushPolicy`.
public final class AppendOnlyLogFile: @unchecked Sendable {
    /// Counters, for monitoring and tests.
    public struct Stats: Sendable, Equatable {
        /// Lines handed to `append`.
        public var linesAppended = 0
        /// Lines written to the file.
        public var linesWritten = 0
        /// `write(2)` batches.
        public var batches = 0
        /// Failed write attempts (the lines stay queued and are tried again).
        public var writeErrors = 0
        /// Lines dropped because the queue was full while writes kept failing.
        public var linesDropped = 0
    }

    /// Where the lines go.
    public let path: String
    /// What `append` waits for.
    public let policy: FlushPolicy
    /// Most bytes kept in memory while writes fail; older lines are dropped (and counted) past it.
    public let maxQueuedBytes: Int

    private let fd: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: [UInt8] = []
    private var pendingLines = 0
    private var waiters: [CheckedContinuation<Void, Error>] = []
    private var closing = false
    private var finished: CheckedContinuation<Void, Never>?
    private var threadDone = false
    private var stats = Stats()

    /// Opens (creating if needed, mode 0640) `path` for appending and starts the writer thread.
    /// - Throws: `PipelineError.cannotOpen` saying what to change.
    public init(path: String, policy: FlushPolicy = .default, maxQueuedBytes: Int = 64 << 20) throws {
        self.path = path
        self.policy = policy
        self.maxQueuedBytes = maxQueuedBytes
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw PipelineError(
                code: .cannotOpen,
                message: "cannot open the activity log '\(path)' for appending: \(reason). "
                    + "Create its directory and make it writable for this user, or choose another path with --log-path (SECMON_LOG_PATH)."
            )
        }
        self.fd = fd
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "secmon-log-writer"
        thread.start()
    }

    /// The counters so far.
    public var currentStats: Stats {
        condition.lock(); defer { condition.unlock() }
        return stats
    }

    /// Queues one line (it must end with a newline) and, unless the policy is `buffered`, waits until
    /// it has been written (and for `synced`, `fsync`ed).
    /// - Throws: `PipelineError.writeFailed` when the write failed (the line stays queued and is retried),
    ///   `PipelineError.closed` after `close()`.
    public func append(_ line: [UInt8]) async throws {
        if policy.mode == .buffered {
            try enqueue(line, waiter: nil)
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            do { try enqueue(line, waiter: continuation) } catch { continuation.resume(throwing: error) }
        }
    }

    /// Waits until everything queued so far has been written and `fsync`ed.
    public func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            condition.lock()
            if closing && threadDone {
                condition.unlock()
                continuation.resume()
                return
            }
            waiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    /// Writes what is queued, `fsync`s, stops the writer thread and closes the file.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if threadDone {
                condition.unlock()
                continuation.resume()
                return
            }
            closing = true
            finished = continuation
            condition.signal()
            condition.unlock()
        }
    }

    private func enqueue(_ line: [UInt8], waiter: CheckedContinuation<Void, Error>?) throws {
        condition.lock()
        defer { condition.unlock() }
        guard !closing else {
            throw PipelineError(code: .closed, message: "the activity log is closed (the server is shutting down)")
        }
        if pending.count + line.count > maxQueuedBytes {
            // Writes have been failing for long enough to fill the queue: keep the newest lines.
            dropOldestLines(toFit: line.count)
        }
        pending.append(contentsOf: line)
        pendingLines += 1
        stats.linesAppended += 1
        if let waiter { waiters.append(waiter) }
        condition.signal()
    }

    private func dropOldestLines(toFit incoming: Int) {
        var cut = 0
        var dropped = 0
        while cut < pending.count, pending.count - cut + incoming > maxQueuedBytes {
            if let newline = pending[cut...].firstIndex(of: 0x0A) { cut = newline + 1 } else { cut = pending.count }
            dropped += 1
        }
        pending.removeFirst(cut)
        pendingLines -= dropped
        stats.linesDropped += dropped
    }

    private func run() {
        var lastSync = DispatchTime.now().uptimeNanoseconds
        var unsynced = false
        var retryDelay = 0.05
        while true {
            condition.lock()
            while pending.isEmpty && waiters.isEmpty && !closing {
                if unsynced, let interval = policy.fsyncInterval {
                    let due = Double(lastSync) / 1e9 + interval
                    let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                    if now >= due { break }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: due - now))
                } else {
                    condition.wait()
                }
            }
            let batch = pending
            let lines = pendingLines
            let batchWaiters = waiters
            let isClosing = closing
            pending = []
            pendingLines = 0
            waiters = []
            condition.unlock()

            var failure: PipelineError?
            var writtenBytes = 0
            if !batch.isEmpty {
                (writtenBytes, failure) = writeAll(batch)
                if writtenBytes > 0 { unsynced = true }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            let fsyncDue = policy.fsyncInterval.map { Double(now - lastSync) / 1e9 >= $0 } ?? false
            let flushRequested = batchWaiters.count > lines || isClosing
            if failure == nil, unsynced, policy.mode == .synced || fsyncDue || flushRequested {
                fsync(fd)
                lastSync = now
                unsynced = false
            }

            condition.lock()
            if failure != nil {
                // Keep what was not written, in order, ahead of anything queued meanwhile, and try
                // again from the byte where the write stopped, so no line is doubled or torn.
                let rest = batch[writtenBytes...]
                let restLines = rest.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
                pending = Array(rest) + pending
                pendingLines += restLines
                stats.linesWritten += lines - restLines
                stats.writeErrors += 1
            } else {
                stats.linesWritten += lines
                if !batch.isEmpty { stats.batches += 1 }
            }
            let done = isClosing && (failure == nil || retryDelay > 5)
            condition.unlock()
            for waiter in batchWaiters {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
            if done { break }
            if failure != nil {
                Thread.sleep(forTimeInterval: retryDelay)
                retryDelay = min(retryDelay * 2, 10)
            } else {
                retryDelay = 0.05
                if policy.mode == .buffered && !isClosing { Thread.sleep(forTimeInterval: policy.maxDelay) }
            }
        }
        Glibc.close(fd)
        condition.lock()
        threadDone = true
        let finished = self.finished
        let leftover = waiters
        waiters = []
        condition.unlock()
        for waiter in leftover { waiter.resume(throwing: PipelineError(code: .closed, message: "the activity log is closed")) }
        finished?.resume()
    }

    /// Writes `bytes`; returns how many were written and, if not all, why.
    private func writeAll(_ bytes: [UInt8]) -> (Int, PipelineError?) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                return (offset, PipelineError(code: .writeFailed, message: "cannot write the activity log '\(path)': \(reason). Free disk space or fix permissions; lines are kept and retried."))
            }
            offset += written
        }
        return (offset, nil)
    }
}
