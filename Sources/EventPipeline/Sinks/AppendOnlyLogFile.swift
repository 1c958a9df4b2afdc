import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An append-only file of lines with group commit.
///
/// Callers hand over whole lines. One writer at a time takes everything pending and writes it with
/// as few `write(2)` calls as possible on a descriptor opened with `O_APPEND`, so lines never
/// interleave or tear, even with several processes appending to the same file. What `append`
/// waits for, and when the file is `fsync`ed, is the `FlushPolicy`:
///
/// - `written`: the caller that finds no write in progress writes the pending lines itself, at once
///   (a `write(2)` into the page cache, microseconds); callers that arrive during a write wait
///   for the writer to take their lines too. No thread hop on the common path. A background
///   thread `fsync`s every `fsyncInterval`.
/// - `synced`: a background thread writes and `fsync`s; callers wait for both.
/// - `buffered`: callers return at once; the background thread writes every `maxDelay`.
public final class AppendOnlyLogFile: Sendable {
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
    public var path: String { writer.path }
    /// What `append` waits for.
    public var policy: FlushPolicy { writer.policy }
    /// Most bytes kept in memory while writes fail; older lines are dropped (and counted) past it.
    public var maxQueuedBytes: Int { writer.maxQueuedBytes }

    private let writer: AppendOnlyLogWriter

    /// Opens (creating if needed, mode 0640) `path` for appending and starts the background thread.
    /// With `chained`, each line (a JSON object) gets a ``LogChain`` field, in the order the lines
    /// are written, starting from the file's last chained line.
    /// - Throws: `PipelineError.cannotOpen` saying what to change.
    public init(path: String, policy: FlushPolicy = .default, maxQueuedBytes: Int = 64 << 20, chained: Bool = false) throws {
        writer = try AppendOnlyLogWriter(path: path, policy: policy, maxQueuedBytes: maxQueuedBytes, chained: chained, onThreadExit: nil)
    }

    /// The chain's newest link (nil when the file is not chained or nothing was written yet).
    public var chainHead: (id: String, sequence: UInt64, hash: String)? { writer.chainHead }

    /// As ``init(path:policy:maxQueuedBytes:)``, calling `onThreadExit` when the writer thread ends
    /// (tests observe their own files' threads, not every writer thread of the process).
    init(path: String, policy: FlushPolicy, maxQueuedBytes: Int = 64 << 20, onThreadExit: (@Sendable () -> Void)?) throws {
        writer = try AppendOnlyLogWriter(path: path, policy: policy, maxQueuedBytes: maxQueuedBytes, chained: false, onThreadExit: onThreadExit)
    }

    /// A file released without ``close()`` still gets what was queued written, and its thread ends.
    deinit { writer.abandon() }

    /// The counters so far.
    public var currentStats: Stats { writer.currentStats }

    /// Queues one line (it must end with a newline) and waits as the policy says.
    /// - Throws: `PipelineError.writeFailed` when the write failed (the line stays queued and is retried),
    ///   `PipelineError.closed` after `close()`.
    public func append(_ line: [UInt8]) async throws { try await writer.append(line) }

    /// Waits until everything queued so far has been written and `fsync`ed.
    public func flush() async throws { try await writer.flush() }

    /// Writes what is queued, `fsync`s, stops the background thread and closes the file.
    public func close() async { await writer.close() }
}

/// The writer behind an ``AppendOnlyLogFile``: the queue, the group commit and the background
/// thread (which holds it until it ends).
final class AppendOnlyLogWriter: @unchecked Sendable {
    /// Where the lines go.
    let path: String
    /// What `append` waits for.
    let policy: FlushPolicy
    /// Most bytes kept in memory while writes fail; older lines are dropped (and counted) past it.
    let maxQueuedBytes: Int

    private let fd: Int32
    private let condition = NSCondition()
    // Everything below is guarded by `condition`.
    private var pending: [UInt8] = []
    private var pendingLines = 0
    /// Callers whose lines are in `pending`, waiting for the write that takes them.
    private var waiters: [CheckedContinuation<Void, Error>] = []
    /// Callers of `flush()`, waiting for the next write and `fsync`.
    private var flushWaiters: [CheckedContinuation<Void, Error>] = []
    /// Someone is between taking a batch and finishing its write: nobody else may take one.
    private var writerActive = false
    private var unsynced = false
    private var lastSync = DispatchTime.now().uptimeNanoseconds
    private var closing = false
    private var threadDone = false
    private var finished: CheckedContinuation<Void, Never>?
    private var stats = AppendOnlyLogFile.Stats()
    /// Seals each line as it is queued (queue order is file order).
    private var chain: LogChain?
    private let onThreadExit: (@Sendable () -> Void)?

    /// See ``AppendOnlyLogFile/init(path:policy:maxQueuedBytes:)``.
    init(path: String, policy: FlushPolicy, maxQueuedBytes: Int, chained: Bool, onThreadExit: (@Sendable () -> Void)?) throws {
        self.onThreadExit = onThreadExit
        if chained { chain = LogChain(previous: Self.lastChainHash(path)) }
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
        // The thread holds the writer until it ends (on `close()`, or when the file's handle is
        // released). It used to hold it `unowned`: a file released before its new thread first
        // ran crashed the process when the thread did run (seen once under CI load).
        let thread = Thread { [self] in self.run() }
        thread.name = "secmon-log-writer"
        thread.start()
    }

    /// The hash of the last chained line of the file at `path` (read from its last 64 KiB), if any.
    static func lastChainHash(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return nil }
        try? handle.seek(toOffset: size > 65_536 ? size - 65_536 : 0)
        guard let data = try? handle.readToEnd() else { return nil }
        for line in data.split(separator: 0x0A).reversed() {
            if let link = LogChain.hash(ofLine: line) { return link.hash }
        }
        return nil
    }

    /// The chain's newest link.
    var chainHead: (id: String, sequence: UInt64, hash: String)? {
        condition.lock(); defer { condition.unlock() }
        guard let chain, chain.sequence > 0 else { return nil }
        return (chain.id, chain.sequence, String(decoding: LogChain.hex(chain.head), as: UTF8.self))
    }

    /// The counters so far.
    var currentStats: AppendOnlyLogFile.Stats {
        condition.lock(); defer { condition.unlock() }
        return stats
    }

    /// Queues one line (it must end with a newline) and waits as the policy says.
    /// - Throws: `PipelineError.writeFailed` when the write failed (the line stays queued and is retried),
    ///   `PipelineError.closed` after `close()`.
    func append(_ line: [UInt8]) async throws {
        switch policy.mode {
        case .buffered:
            try enqueueBuffered(line)
        case .synced:
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                condition.lock()
                do {
                    try enqueueLocked(line)
                    waiters.append(continuation)
                    condition.signal()
                    condition.unlock()
                } catch {
                    condition.unlock()
                    continuation.resume(throwing: error)
                }
            }
        case .written:
            // Fast path: nobody is writing, so write now, on this thread, without suspending.
            if try becomeWriter(with: line) {
                if let failure = drain() { throw failure }
                return
            }
            // A write is in progress: the writer takes this line in its next round.
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                condition.lock()
                do { try enqueueLocked(line) } catch {
                    condition.unlock()
                    continuation.resume(throwing: error)
                    return
                }
                waiters.append(continuation)
                if writerActive {
                    condition.unlock()
                } else {
                    // The writer finished meanwhile: write ourselves (this resumes our continuation).
                    writerActive = true
                    condition.unlock()
                    _ = drain()
                }
            }
        }
    }

    /// Waits until everything queued so far has been written and `fsync`ed.
    func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            condition.lock()
            if threadDone {
                condition.unlock()
                continuation.resume()
                return
            }
            flushWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    /// Writes what is queued, `fsync`s, stops the background thread and closes the file.
    func close() async {
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

    /// Like ``close()`` without waiting: the thread writes what is queued, `fsync`s, closes the
    /// file and ends (the file's handle was released without closing it).
    func abandon() {
        condition.lock()
        if !threadDone, !closing {
            closing = true
            condition.signal()
        }
        condition.unlock()
    }

    private func enqueueBuffered(_ line: [UInt8]) throws {
        condition.lock()
        defer { condition.unlock() }
        try enqueueLocked(line)
        // Wake the writer thread: it writes within `maxDelay` (without this, buffered lines
        // waited for the next flush, fsync or close).
        condition.signal()
    }

    /// Queues `line` and takes the writer role if nobody has it; returns whether it did.
    private func becomeWriter(with line: [UInt8]) throws -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !writerActive && !closing else { return false }
        try enqueueLocked(line)
        writerActive = true
        return true
    }

    private func enqueueLocked(_ line: [UInt8]) throws {
        guard !closing else {
            throw PipelineError(code: .closed, message: "the activity log is closed (the server is shutting down)")
        }
        if pending.count + line.count > maxQueuedBytes {
            // Writes have been failing for long enough to fill the queue: keep the newest lines.
            dropOldestLines(toFit: line.count)
        }
        if chain != nil {
            // A caller may hand over several lines at once (the host log's batches): seal each.
            var start = 0
            while start < line.count {
                let end = line[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? line.count
                pending.append(contentsOf: chain!.seal(Array(line[start..<end])))
                start = end
            }
        } else {
            pending.append(contentsOf: line)
        }
        pendingLines += 1
        stats.linesAppended += 1
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

    /// Writes batches until nothing is pending, then gives up the writer role. The caller must have
    /// set `writerActive`. Resumes the waiters of each batch; returns the first failure, if any
    /// (the unwritten bytes are put back in front of `pending`, to be retried).
    private func drain() -> PipelineError? {
        var firstFailure: PipelineError?
        while true {
            condition.lock()
            if pending.isEmpty || (firstFailure != nil) {
                writerActive = false
                let leftover = firstFailure != nil ? waiters : []
                if firstFailure != nil { waiters = [] }
                condition.broadcast()
                condition.unlock()
                for waiter in leftover { waiter.resume(throwing: firstFailure!) }
                return firstFailure
            }
            let batch = pending
            let lines = pendingLines
            let batchWaiters = waiters
            pending = []
            pendingLines = 0
            waiters = []
            condition.unlock()

            let (written, failure) = writeAll(batch)

            condition.lock()
            if written > 0 { unsynced = true }
            if let failure {
                // Keep what was not written, in order, ahead of anything queued meanwhile, and try
                // again from the byte where the write stopped, so no line is doubled or torn.
                let rest = batch[written...]
                let restLines = rest.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
                pending = Array(rest) + pending
                pendingLines += restLines
                stats.linesWritten += lines - restLines
                stats.writeErrors += 1
                firstFailure = failure
            } else {
                stats.linesWritten += lines
                stats.batches += 1
            }
            condition.unlock()
            for waiter in batchWaiters {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
        }
    }

    /// Takes the writer role (waiting while someone else has it) and drains.
    private func drainFromThread() -> PipelineError? {
        condition.lock()
        while writerActive { condition.wait() }
        writerActive = true
        condition.unlock()
        return drain()
    }

    private func syncIfNeeded(force: Bool) {
        condition.lock()
        let now = DispatchTime.now().uptimeNanoseconds
        let due = policy.fsyncInterval.map { Double(now - lastSync) / 1e9 >= $0 } ?? false
        let needed = unsynced && (force || due || policy.mode == .synced)
        if needed {
            unsynced = false
            lastSync = now
        }
        condition.unlock()
        if needed { fsync(fd) }
    }

    /// The background thread: writes for `synced` and `buffered`, retries failed writes, serves
    /// `flush()` and `close()`, and `fsync`s on the interval.
    private func run() {
        var retryDelay = 0.05
        while true {
            condition.lock()
            while !closing && flushWaiters.isEmpty && !(policy.mode != .written && !pending.isEmpty && !writerActive)
                    && !(policy.mode == .written && !pending.isEmpty && !writerActive && stats.writeErrors > 0) {
                if unsynced, let interval = policy.fsyncInterval {
                    let due = Double(lastSync) / 1e9 + interval
                    let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                    if now >= due { break }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: due - now))
                } else {
                    condition.wait()
                }
            }
            let isClosing = closing
            let flushes = flushWaiters
            flushWaiters = []
            condition.unlock()

            if policy.mode == .buffered && !isClosing && flushes.isEmpty {
                // Gather lines for `maxDelay`, but a close or a flush cuts the wait short (a sleep
                // made `close()` wait out the whole delay).
                let deadline = Date(timeIntervalSinceNow: policy.maxDelay)
                condition.lock()
                while !closing && flushWaiters.isEmpty {
                    if !condition.wait(until: deadline) { break }
                }
                condition.unlock()
            }
            let failure = drainFromThread()
            syncIfNeeded(force: !flushes.isEmpty || isClosing)
            for waiter in flushes {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
            if isClosing && (failure == nil || retryDelay > 5) { break }
            if failure != nil {
                Thread.sleep(forTimeInterval: retryDelay)
                retryDelay = min(retryDelay * 2, 10)
            } else {
                retryDelay = 0.05
            }
        }
        Glibc.close(fd)
        condition.lock()
        threadDone = true
        let finished = self.finished
        let leftover = waiters + flushWaiters
        waiters = []
        flushWaiters = []
        condition.unlock()
        for waiter in leftover { waiter.resume(throwing: PipelineError(code: .closed, message: "the activity log is closed")) }
        finished?.resume()
        onThreadExit?()
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
