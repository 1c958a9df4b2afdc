import DetectionEngine
import Foundation
import LogFormats
import Logging
import SecurityModel
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Follows log files as `tail -F` does and hands each new line to live detection as an event:
/// nginx/Apache access logs, sshd/auth logs (syslog), JSON lines, another app's activity log.
///
/// - A file is read from where SecMon left it (its saved position, when the file is the same: same
///   device and inode, not shorter), from its start when it was replaced or truncated since, and
///   from its end when SecMon never read it: lines written before SecMon first saw it are for
///   `secmon analyze`.
/// - Rotation (the path now names another file) is followed after the old file is read to its
///   end; truncation (`copytruncate`) starts over at the beginning. A missing file is waited for.
/// - A line that is not of the format is counted with its line number and reason, and the next
///   line is read; a line longer than ``LineDecoder/maxLineBytes`` is skipped without being held.
/// - When detection's queue is full the source waits and offers the line again: nothing is lost.
public final class FileTailSource: Service, Sendable {
    /// A file to follow and its format.
    public struct Spec: Sendable, Hashable {
        public var path: String
        public var format: LogFormat
        public init(path: String, format: LogFormat) {
            self.path = path
            self.format = format
        }

        /// Parses `FORMAT:PATH` (`syslog:/var/log/auth.log`), naming what is wrong.
        public init(parsing text: String) throws(SpecError) {
            guard let colon = text.firstIndex(of: ":") else {
                throw SpecError("'\(text.prefix(200))' is not FORMAT:PATH (for example syslog:/var/log/auth.log)")
            }
            let name = String(text[..<colon]), path = String(text[text.index(after: colon)...])
            guard let format = LogFormat(rawValue: name), format != .host else {
                throw SpecError("'\(name.prefix(40))' is not a format SecMon follows: activity, json, access or syslog")
            }
            guard path.hasPrefix("/"), !path.contains("\0") else {
                throw SpecError("'\(path.prefix(200))' is not an absolute path (in \(text.prefix(200)))")
            }
            self.init(path: path, format: format)
        }
    }

    /// Why a `FORMAT:PATH` is refused.
    public struct SpecError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Where a file was left: saved so that a restart goes on from there.
    public struct Position: Sendable, Hashable, Codable {
        public var path: String
        public var device: UInt64
        public var inode: UInt64
        public var offset: Int64
        public var line: Int64
        public init(path: String, device: UInt64, inode: UInt64, offset: Int64, line: Int64) {
            self.path = path
            self.device = device
            self.inode = inode
            self.offset = offset
            self.line = line
        }
    }

    /// What one followed file has done, for the console.
    public struct Status: Sendable, Equatable {
        public var path: String
        public var format: LogFormat
        /// "following", "waiting for the file to appear", or the error that stops reading it.
        public var state: String
        public var offset: Int64 = 0
        public var size: Int64 = 0
        public var lines: Int64 = 0
        public var events: Int64 = 0
        public var rejected: Int64 = 0
        public var oversized: Int64 = 0
        public var rotations: Int = 0
        public var truncations: Int = 0
        /// The last line refused: "line 42: not an access log line: ...".
        public var lastRejection: String?
        public var lastEvent: Timestamp?
    }

    private let specs: [Spec]
    private let intake: EventIntake
    private let rulesFields: @Sendable () -> FieldTable
    private let hostname: String
    private let pollSeconds: Double
    private let maxBytesPerPoll: Int
    private let loadPositions: @Sendable () async throws -> [Position]
    private let savePositions: @Sendable ([Position]) async throws -> Void
    private let onEvent: @Sendable (SecurityEvent) -> Void
    private let logger: Logger
    private let snapshot: Mutex<[Status]>

    /// - Parameters:
    ///   - rulesFields: the fields the live rules read now (asked at each poll: reloads change them).
    ///   - onEvent: told of every event queued (to store it).
    ///   - loadPositions, savePositions: where positions are kept between runs.
    public init(files: [Spec], intake: EventIntake, rulesFields: @escaping @Sendable () -> FieldTable, hostname: String,
                pollSeconds: Double = 0.5, maxBytesPerPoll: Int = 4 << 20,
                loadPositions: @escaping @Sendable () async throws -> [Position] = { [] },
                savePositions: @escaping @Sendable ([Position]) async throws -> Void = { _ in },
                onEvent: @escaping @Sendable (SecurityEvent) -> Void = { _ in }, logger: Logger) {
        self.specs = files
        self.intake = intake
        self.rulesFields = rulesFields
        self.hostname = hostname
        self.pollSeconds = pollSeconds
        self.maxBytesPerPoll = max(4096, maxBytesPerPoll)
        self.loadPositions = loadPositions
        self.savePositions = savePositions
        self.onEvent = onEvent
        self.logger = logger
        snapshot = Mutex(files.map { Status(path: $0.path, format: $0.format, state: "starting") })
    }

    /// Each file's state and counters as of the last poll.
    public var statuses: [Status] { snapshot.withLock { $0 } }

    public func run() async throws {
        var saved: [String: Position] = [:]
        do {
            for position in try await loadPositions() { saved[position.path] = position }
        } catch {
            logger.error("tailed files: saved positions could not be read; each file starts at its end", metadata: ["error": "\(error)"])
        }
        var tails = specs.map { TailedFile(spec: $0, saved: saved[$0.path], hostname: hostname, rulesFields: rulesFields()) }
        var lastSaved = tails.map(\.position)
        var lastSave = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let fields = rulesFields()
            for index in tails.indices {
                await tails[index].poll(maxBytes: maxBytesPerPoll, fields: fields, intake: intake, onEvent: onEvent)
            }
            let statuses = tails.map(\.status)
            snapshot.withLock { $0 = statuses }
            let positions = tails.map(\.position)
            if positions != lastSaved, ContinuousClock.now - lastSave >= .seconds(2) {
                await save(positions.compactMap { $0 })
                lastSaved = positions
                lastSave = .now
            }
            // Woken by a graceful shutdown, so that stopping does not wait out the poll.
            try? await cancelWhenGracefulShutdown { [pollSeconds] in try await Task.sleep(for: .seconds(pollSeconds)) }
        }
        let positions = tails.map(\.position)
        for index in tails.indices { tails[index].close() }
        if positions != lastSaved { await save(positions.compactMap { $0 }) }
    }

    private func save(_ positions: [Position]) async {
        do { try await savePositions(positions) } catch {
            logger.error("tailed files: positions could not be saved", metadata: ["error": "\(error)"])
        }
    }
}

/// One followed file: its descriptor, where it is read to, the partial line at its end, and its
/// counters. Owned by the source's task alone.
struct TailedFile {
    let spec: FileTailSource.Spec
    private(set) var status: FileTailSource.Status
    private var events: LogLineEvents
    private var fd: Int32 = -1
    private var device: UInt64 = 0
    private var inode: UInt64 = 0
    private var offset: Int64 = 0
    private var line: Int64 = 0
    /// The start of a line whose newline has not been written yet.
    private var pending: [UInt8] = []
    /// Inside a line longer than the limit: skip to its newline.
    private var skipping = false
    /// Where to start when the file is first opened: a saved position, else its end.
    private var saved: FileTailSource.Position?
    private var opened = false
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(spec: FileTailSource.Spec, saved: FileTailSource.Position?, hostname: String, rulesFields: FieldTable) {
        self.spec = spec
        self.saved = saved
        status = FileTailSource.Status(path: spec.path, format: spec.format, state: "starting")
        events = LogLineEvents(format: spec.format, rulesFields: rulesFields, hostname: hostname)
    }

    /// Where the file was read to, less a partial last line (nil before it was first opened), so
    /// that a restart reads that line whole.
    var position: FileTailSource.Position? {
        guard fd >= 0 else { return saved }
        return FileTailSource.Position(path: spec.path, device: device, inode: inode, offset: offset &- Int64(skipping ? 0 : pending.count), line: line)
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Reads what was appended since the last poll (at most `maxBytes`), follows rotation and truncation.
    mutating func poll(maxBytes: Int, fields: FieldTable, intake: EventIntake, onEvent: @Sendable (SecurityEvent) -> Void) async {
        events.update(rulesFields: fields)
        if fd < 0 && !open(fromStart: opened) { return }
        var info = stat()
        // Rotated: the path names another file now. Finish the old one first.
        if stat(spec.path, &info) == 0, UInt64(info.st_dev) != device || UInt64(info.st_ino) != inode {
            await read(maxBytes: maxBytes, intake: intake, onEvent: onEvent)
            close()
            status.rotations += 1
            pending.removeAll()
            skipping = false
            guard open(fromStart: true) else { return }
        }
        var current = stat()
        if fstat(fd, &current) == 0 {
            if Int64(current.st_size) < offset {
                // Truncated in place (copytruncate): what is there now is new.
                status.truncations += 1
                offset = 0
                line = 0
                pending.removeAll()
                skipping = false
            }
        }
        await read(maxBytes: maxBytes, intake: intake, onEvent: onEvent)
        status.offset = offset
        if fstat(fd, &current) == 0 { status.size = Int64(current.st_size) }
    }

    /// Opens the file: from its start (a file that appeared or replaced the old one), from its
    /// saved position when it is the same file, else from its end.
    private mutating func open(fromStart: Bool) -> Bool {
        let descriptor = Glibc.open(spec.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            status.state = errno == ENOENT ? "waiting for the file to appear" : "cannot read it: \(String(cString: strerror(errno)))"
            // A file that appears later is new: read it whole.
            if errno == ENOENT { opened = true }
            return false
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(descriptor)
            status.state = "not a regular file"
            return false
        }
        fd = descriptor
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        let size = Int64(info.st_size)
        if let saved, saved.device == device, saved.inode == inode, saved.offset <= size {
            offset = saved.offset
            line = saved.line
        } else if fromStart || saved != nil {
            // Appeared or replaced since it was last read (or truncated below where it was left): all of it is new.
            offset = 0
            line = 0
        } else {
            offset = size
            line = 0
        }
        saved = nil
        opened = true
        status.state = "following"
        return true
    }

    /// Reads from `offset` to the end (or `maxBytes`), handing out each complete line.
    private mutating func read(maxBytes: Int, intake: EventIntake, onEvent: @Sendable (SecurityEvent) -> Void) async {
        var budget = maxBytes
        while budget > 0 {
            let want = min(buffer.count, budget)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
            if got < 0 {
                if errno == EINTR { continue }
                status.state = "cannot read it: \(String(cString: strerror(errno)))"
                return
            }
            if got == 0 { return }
            budget -= got
            var start = 0
            for index in 0..<got where buffer[index] == UInt8(ascii: "\n") {
                let piece = buffer[start..<index]
                start = index + 1
                line &+= 1
                if skipping {
                    skipping = false
                    pending.removeAll()
                } else if pending.isEmpty {
                    await handle(Array(piece), intake: intake, onEvent: onEvent)
                } else {
                    pending.append(contentsOf: piece)
                    let whole = pending
                    pending.removeAll()
                    await handle(whole, intake: intake, onEvent: onEvent)
                }
            }
            // The rest is the start of a line not finished yet.
            if start < got && !skipping {
                pending.append(contentsOf: buffer[start..<got])
                if pending.count > LineDecoder.maxLineBytes {
                    status.oversized += 1
                    status.lastRejection = "line \(line &+ 1): longer than \(LineDecoder.maxLineBytes) bytes; skipped"
                    pending.removeAll()
                    skipping = true
                }
            }
            offset &+= Int64(got)
        }
    }

    private mutating func handle(_ bytes: [UInt8], intake: EventIntake, onEvent: @Sendable (SecurityEvent) -> Void) async {
        status.lines &+= 1
        guard let made = events.event(line: bytes) else { return }
        switch made {
        case .failure(let rejection):
            status.rejected &+= 1
            status.lastRejection = "line \(line): \(rejection.reason)"
        case .success(var event):
            // Detection's queue is full: wait for room (the file keeps the lines meanwhile).
            while !intake.offerStamped(&event) {
                if intake.isFinished { return }
                try? await Task.sleep(for: .milliseconds(20))
            }
            status.events &+= 1
            status.lastEvent = event.time
            onEvent(event)
        }
    }
}
