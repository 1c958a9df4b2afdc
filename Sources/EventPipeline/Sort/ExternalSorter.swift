import Foundation
import HeapModule

/// Sorts records (a 64-bit key and some bytes: a log line keyed by its event time) within a
/// memory budget, as `secmon analyze` needs for input that is not in time order.
///
/// Records are held in memory up to `budgetBytes`. Past it they are sorted and written as a run
/// to a private directory made inside `directory`; ``forEachSorted(_:)`` then merges the runs
/// (and what is still in memory) through a heap, reading each run in buffered chunks, so memory
/// stays near the budget whatever the input's size. Equal keys keep their order of arrival: the
/// sort is stable and deterministic. The spill files go when the sorter does.
///
/// Run file format: for each record, the key (8 bytes), the arrival number (8 bytes), the length
/// (4 bytes), all little-endian, then the bytes.
public final class ExternalSorter {
    /// Why sorting could not go on, and what to do.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// What the sorter did.
    public struct Statistics: Sendable, Equatable {
        public var records: Int64 = 0
        public var runs = 0
        public var spilledBytes: Int64 = 0
    }

    struct Entry {
        var key: Int64
        var sequence: Int64
        var offset: Int
        var length: Int
    }

    /// Bytes an entry costs beside its bytes (for the budget).
    static let entryOverhead = 48
    /// Longest record, in bytes.
    public static let maxRecordBytes = 1 << 24

    public let budgetBytes: Int
    /// Most bytes the runs may take on disk (`nil`: as much as the disk holds).
    public let maxSpillBytes: Int64?
    public private(set) var statistics = Statistics()
    private let directory: String
    private var arena: [UInt8] = []
    private var entries: [Entry] = []
    private var runPaths: [String] = []
    private var finished = false

    /// - Parameters:
    ///   - directory: where the private spill directory is made (it must be writable).
    ///   - budgetBytes: memory for records before a run is written (at least 64 KiB).
    public init(directory: String, budgetBytes: Int, maxSpillBytes: Int64? = nil) throws {
        self.budgetBytes = max(64 * 1024, budgetBytes)
        self.maxSpillBytes = maxSpillBytes
        var template = Array((directory as NSString).appendingPathComponent("secmon-sort.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "cannot make a spill directory in \(directory): \(String(cString: strerror(errno))); "
                + "give a writable directory with --spill-dir (or TMPDIR)")
        }
        self.directory = String(cString: made)
    }

    deinit {
        for path in runPaths { unlink(path) }
        rmdir(directory)
    }

    /// Records held in memory now, and their bytes.
    public var held: (records: Int, bytes: Int) { (entries.count, arena.count + entries.count * Self.entryOverhead) }

    /// Adds a record.
    public func append(key: Int64, bytes: UnsafeBufferPointer<UInt8>) throws {
        try append(key: key, prefix: UnsafeRawBufferPointer(start: nil, count: 0), bytes: bytes)
    }

    /// Adds a record made of `prefix` then `bytes` (without building it first).
    public func append(key: Int64, prefix: UnsafeRawBufferPointer, bytes: UnsafeBufferPointer<UInt8>) throws {
        precondition(!finished, "ExternalSorter: append after forEachSorted")
        let length = prefix.count + bytes.count
        guard length <= Self.maxRecordBytes else {
            throw Failure(description: "a record of \(length) bytes is longer than the sorter's \(Self.maxRecordBytes)-byte limit")
        }
        if arena.count + length + (entries.count + 1) * Self.entryOverhead > budgetBytes, !entries.isEmpty {
            try spill()
        }
        entries.append(Entry(key: key, sequence: statistics.records, offset: arena.count, length: length))
        if !prefix.isEmpty { arena.append(contentsOf: prefix) }
        if !bytes.isEmpty { arena.append(contentsOf: bytes) }
        statistics.records &+= 1
    }

    /// Hands every record to `body` in (key, arrival) order. Call once.
    public func forEachSorted(_ body: (Int64, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        precondition(!finished, "ExternalSorter: forEachSorted called twice")
        finished = true
        sortEntries()
        if runPaths.isEmpty {
            try arena.withUnsafeBufferPointer { arena in
                for entry in entries { try body(entry.key, UnsafeBufferPointer(rebasing: arena[entry.offset..<entry.offset + entry.length])) }
            }
            return
        }
        var readers = try runPaths.map { try RunReader(path: $0) }
        struct Head: Comparable {
            var key: Int64
            var sequence: Int64
            /// A run's index, or -1 for the records still in memory.
            var source: Int
            static func < (a: Head, b: Head) -> Bool { (a.key, a.sequence) < (b.key, b.sequence) }
        }
        var heap = Heap<Head>()
        for (index, reader) in readers.enumerated() where try reader.advance() {
            heap.insert(Head(key: reader.key, sequence: reader.sequence, source: index))
        }
        var memory = 0
        if !entries.isEmpty { heap.insert(Head(key: entries[0].key, sequence: entries[0].sequence, source: -1)) }
        try arena.withUnsafeBufferPointer { arena in
            while let head = heap.popMin() {
                if head.source < 0 {
                    let entry = entries[memory]
                    try body(entry.key, UnsafeBufferPointer(rebasing: arena[entry.offset..<entry.offset + entry.length]))
                    memory += 1
                    if memory < entries.count { heap.insert(Head(key: entries[memory].key, sequence: entries[memory].sequence, source: -1)) }
                } else {
                    let reader = readers[head.source]
                    try reader.withRecord { try body(head.key, $0) }
                    if try reader.advance() { heap.insert(Head(key: reader.key, sequence: reader.sequence, source: head.source)) }
                }
            }
        }
        readers.removeAll()
    }

    private func sortEntries() {
        entries.sort { ($0.key, $0.sequence) < ($1.key, $1.sequence) }
    }

    /// Writes the records in memory, sorted, as a run.
    private func spill() throws {
        sortEntries()
        let path = (directory as NSString).appendingPathComponent("run-\(runPaths.count)")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw Failure(description: "cannot write a sort run in \(directory): \(String(cString: strerror(errno)))")
        }
        runPaths.append(path)
        defer { close(fd) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var written: Int64 = 0
        func flush() throws {
            var offset = 0
            while offset < buffer.count {
                let count = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, buffer.count - offset) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "writing a sort run to \(directory) failed after \(statistics.spilledBytes &+ written) bytes: "
                        + "\(String(cString: strerror(errno))); give a spill directory with room for about the input's size (--spill-dir)")
                }
                offset += count
            }
            written &+= Int64(buffer.count)
            buffer.removeAll(keepingCapacity: true)
        }
        for entry in entries {
            withUnsafeBytes(of: entry.key.littleEndian) { buffer.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.sequence.littleEndian) { buffer.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(entry.length).littleEndian) { buffer.append(contentsOf: $0) }
            buffer.append(contentsOf: arena[entry.offset..<entry.offset + entry.length])
            if buffer.count >= 1 << 20 { try flush() }
            if let limit = maxSpillBytes, statistics.spilledBytes &+ written &+ Int64(buffer.count) > limit {
                throw Failure(description: "sorting needs more than the \(limit) bytes allowed for spill files; "
                    + "give a larger limit or a spill directory with more room, or pass the input in time order")
            }
        }
        try flush()
        statistics.spilledBytes &+= written
        statistics.runs += 1
        entries.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }
}

/// Reads one sort run in buffered chunks.
final class RunReader {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    private var eof = false
    private(set) var key: Int64 = 0
    private(set) var sequence: Int64 = 0
    private var recordStart = 0
    private var recordLength = 0

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ExternalSorter.Failure(description: "cannot read the sort run \(path): \(String(cString: strerror(errno)))") }
        buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit { close(fd) }

    /// Makes at least `count` unread bytes available (false at the end of the file).
    private func fill(_ count: Int) throws -> Bool {
        if end - start >= count { return true }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                if end > start { memmove(raw.baseAddress!, raw.baseAddress! + start, end - start) }
            }
            end -= start
            start = 0
        }
        if buffer.count < count { buffer.append(contentsOf: [UInt8](repeating: 0, count: count - buffer.count)) }
        while end - start < count && !eof {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + end, $0.count - end) }
            if got < 0 {
                if errno == EINTR { continue }
                throw ExternalSorter.Failure(description: "reading the sort run \(path) failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { eof = true } else { end += got }
        }
        return end - start >= count
    }

    /// Reads the next record's header and bytes into the buffer; false at the end.
    func advance() throws -> Bool {
        // Skip the previous record.
        start += recordLength
        recordLength = 0
        guard try fill(20) else {
            if end - start > 0 { throw ExternalSorter.Failure(description: "the sort run \(path) ends in the middle of a record") }
            return false
        }
        let (key, sequence, length) = buffer.withUnsafeBytes { raw -> (Int64, Int64, Int) in
            (Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: Int64.self)),
             Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8, as: Int64.self)),
             Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 16, as: UInt32.self))))
        }
        start += 20
        guard try fill(length) else { throw ExternalSorter.Failure(description: "the sort run \(path) ends in the middle of a record") }
        self.key = key
        self.sequence = sequence
        recordStart = start
        recordLength = length
        return true
    }

    /// The current record's bytes (valid during `body`).
    func withRecord<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[recordStart..<recordStart + recordLength])) }
    }
}
