import CPrefetch
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
/// Run file format: for each record, the key (8 bytes) and the length (4 bytes), little-endian,
/// then the bytes. No arrival number is needed: runs hold consecutive stretches of the input, in
/// order, so among equal keys the earlier run's record came first (and the records still in
/// memory came last).
///
/// Not thread-safe: one caller at a time. Its stored state opts out of the runtime's exclusivity
/// checks (which cost a tenth of the time of sorting a log): no access to it can overlap, since
/// ``forEachSorted(_:)``'s body cannot append (a precondition) and nothing else calls back in.
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

    /// A record in memory: its key and where its bytes are in the arena (which is at most 4 GiB:
    /// ``budgetBytes`` is capped there). Entries are in arrival order until sorted.
    struct Entry {
        var key: Int64
        private var start: UInt32
        private var count: UInt32

        init(key: Int64, offset: Int, length: Int) {
            self.key = key
            self.start = UInt32(offset)
            self.count = UInt32(length)
        }

        var offset: Int { Int(start) }
        var length: Int { Int(count) }
    }

    /// Bytes an entry costs beside its bytes (for the budget): itself and its place in the radix
    /// sort's scratch array.
    static let entryOverhead = 2 * MemoryLayout<Entry>.stride
    /// Longest record, in bytes.
    public static let maxRecordBytes = 1 << 24

    public let budgetBytes: Int
    /// Most bytes the runs may take on disk (`nil`: as much as the disk holds).
    public let maxSpillBytes: Int64?
    @exclusivity(unchecked) public private(set) var statistics = Statistics()
    private let directory: String
    @exclusivity(unchecked) private var arena: [UInt8] = []
    @exclusivity(unchecked) private var entries: [Entry] = []
    /// The radix sort's second array (kept from one run to the next).
    @exclusivity(unchecked) private var scratch: [Entry] = []
    @exclusivity(unchecked) private var runPaths: [String] = []
    @exclusivity(unchecked) private var finished = false

    /// - Parameters:
    ///   - directory: where the private spill directory is made (it must be writable).
    ///   - budgetBytes: memory for records before a run is written (at least 64 KiB, at most 4 GiB).
    public init(directory: String, budgetBytes: Int, maxSpillBytes: Int64? = nil) throws {
        self.budgetBytes = min(max(64 * 1024, budgetBytes), Int(UInt32.max))
        self.maxSpillBytes = maxSpillBytes
        var template = Array((directory as NSString).appendingPathComponent("secmon-sort.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "cannot make a spill directory in \(directory): \(String(cString: strerror(errno))); "
                + "give a writable directory with --spill-dir (or TMPDIR)")
        }
        self.directory = String(cString: made)
        // The arena's full size at once: growing it by doubling would copy it and fault its pages
        // again each time (it keeps its capacity from one run to the next).
        arena.reserveCapacity(self.budgetBytes)
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
        entries.append(Entry(key: key, offset: arena.count, length: length))
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
                for index in entries.indices {
                    prefetch(arena, index + Self.prefetchDistance)
                    let entry = entries[index]
                    try body(entry.key, UnsafeBufferPointer(rebasing: arena[entry.offset..<entry.offset + entry.length]))
                }
            }
            return
        }
        var readers = try runPaths.map { try RunReader(path: $0) }
        // The records still in memory arrived after every run's: they rank last among equal keys.
        let memorySource = readers.count
        struct Head: Comparable {
            var key: Int64
            /// A run's index, or `memorySource` for the records still in memory.
            var source: Int
            static func < (a: Head, b: Head) -> Bool { (a.key, a.source) < (b.key, b.source) }
        }
        var heap = Heap<Head>()
        for (index, reader) in readers.enumerated() where try reader.advance() {
            heap.insert(Head(key: reader.key, source: index))
        }
        var memory = 0
        if !entries.isEmpty { heap.insert(Head(key: entries[0].key, source: memorySource)) }
        try arena.withUnsafeBufferPointer { arena in
            // The smallest head is handed over, then replaced by its source's next record (one
            // sift instead of a removal and an insertion), or removed when its source is done.
            while let head = heap.min {
                var next: Head?
                if head.source == memorySource {
                    prefetch(arena, memory + Self.prefetchDistance)
                    let entry = entries[memory]
                    try body(entry.key, UnsafeBufferPointer(rebasing: arena[entry.offset..<entry.offset + entry.length]))
                    memory += 1
                    if memory < entries.count { next = Head(key: entries[memory].key, source: memorySource) }
                } else {
                    let reader = readers[head.source]
                    try reader.withRecord { try body(head.key, $0) }
                    if try reader.advance() { next = Head(key: reader.key, source: head.source) }
                }
                if let next { heap.replaceMin(with: next) } else { heap.removeMin() }
            }
        }
        readers.removeAll()
    }

    /// Bytes of a record's header in a run: key, length.
    static let headerBytes = 12

    /// Writes all `bytes` the vectors hold, however many calls it takes.
    private static func writeAll(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>, bytes: Int,
                                 failure: (String) -> Failure) throws {
        var first = 0
        var left = bytes
        while left > 0 {
            let count = writev(fd, vectors.baseAddress! + first, Int32(vectors.count - first))
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(String(cString: strerror(errno)))
            }
            left -= count
            // Skip what was written: whole vectors, then part of the next.
            var done = count
            while first < vectors.count, done >= vectors[first].iov_len {
                done -= vectors[first].iov_len
                first += 1
            }
            if done > 0 {
                vectors[first].iov_base += done
                vectors[first].iov_len -= done
            }
        }
    }

    /// How many records ahead of the one being read the next is fetched into the cache.
    static let prefetchDistance = 16

    /// Starts loading the first two cache lines of the record of `entries[index]`, if any: records
    /// are read in sorted order, far apart in the arena, and the wait for each would dominate.
    @inline(__always)
    private func prefetch(_ arena: UnsafeBufferPointer<UInt8>, _ index: Int) {
        guard index < entries.count, let base = arena.baseAddress else { return }
        let entry = entries[index]
        secmon_prefetch(base + entry.offset)
        if entry.length > 64 { secmon_prefetch(base + entry.offset + 64) }
    }

    /// Sorts the entries by key, keeping arrival order among equal keys (they are in arrival
    /// order before): a least-significant-digit radix sort, 11 bits a pass, over the keys'
    /// distance from the smallest, skipping digits all keys share. Log times within a run span
    /// little of the 64 bits, so a few passes suffice, each a linear scan.
    private func sortEntries() {
        guard entries.count > 1 else { return }
        var lowest = Int64.max, highest = Int64.min
        for entry in entries {
            lowest = min(lowest, entry.key)
            highest = max(highest, entry.key)
        }
        let span = UInt64(bitPattern: highest &- lowest)
        if span == 0 { return }
        // The scratch array, exactly as long as the entries (it keeps its capacity between runs).
        if scratch.count > entries.count {
            scratch.removeLast(scratch.count - entries.count)
        } else if scratch.count < entries.count {
            scratch.append(contentsOf: entries[scratch.count...])
        }
        let digitBits: UInt64 = 11, buckets = 1 << 11
        var counts = [Int](repeating: 0, count: buckets)
        var shift: UInt64 = 0
        while shift < 64, span >> shift != 0 {
            for index in counts.indices { counts[index] = 0 }
            entries.withUnsafeBufferPointer { source in
                for entry in source { counts[Int((UInt64(bitPattern: entry.key &- lowest) >> shift) & UInt64(buckets - 1))] += 1 }
            }
            // A digit every key shares moves nothing.
            if counts.contains(entries.count) { shift += digitBits; continue }
            var total = 0
            for index in counts.indices { let count = counts[index]; counts[index] = total; total += count }
            entries.withUnsafeBufferPointer { source in
                scratch.withUnsafeMutableBufferPointer { target in
                    for entry in source {
                        let digit = Int((UInt64(bitPattern: entry.key &- lowest) >> shift) & UInt64(buckets - 1))
                        target[counts[digit]] = entry
                        counts[digit] += 1
                    }
                }
            }
            swap(&entries, &scratch)
            shift += digitBits
        }
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
        // Records go straight from the arena to the file: a header and the bytes per record, up to
        // `batch` records per `writev`.
        let batch = 512
        var headers = [UInt8](repeating: 0, count: batch * Self.headerBytes)
        var vectors = [iovec](repeating: iovec(), count: batch * 2)
        var written: Int64 = 0
        try arena.withUnsafeBufferPointer { arena in
            try headers.withUnsafeMutableBytes { headers in
                try vectors.withUnsafeMutableBufferPointer { vectors in
                    var next = 0
                    while next < entries.count {
                        let count = min(batch, entries.count - next)
                        var bytes = 0
                        for k in 0..<count {
                            prefetch(arena, next + k + Self.prefetchDistance)
                            let entry = entries[next + k]
                            let header = headers.baseAddress! + k * Self.headerBytes
                            header.storeBytes(of: entry.key.littleEndian, toByteOffset: 0, as: Int64.self)
                            header.storeBytes(of: UInt32(entry.length).littleEndian, toByteOffset: 8, as: UInt32.self)
                            vectors[2 * k] = iovec(iov_base: header, iov_len: Self.headerBytes)
                            vectors[2 * k + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: arena.baseAddress.map { $0 + entry.offset }),
                                                       iov_len: entry.length)
                            bytes += Self.headerBytes + entry.length
                        }
                        if let limit = maxSpillBytes, statistics.spilledBytes &+ written &+ Int64(bytes) > limit {
                            throw Failure(description: "sorting needs more than the \(limit) bytes allowed for spill files; "
                                + "give a larger limit or a spill directory with more room, or pass the input in time order")
                        }
                        try Self.writeAll(fd, UnsafeMutableBufferPointer(rebasing: vectors[0..<(2 * count)]), bytes: bytes) { error in
                            Failure(description: "writing a sort run to \(directory) failed after \(statistics.spilledBytes &+ written) bytes: "
                                + "\(error); give a spill directory with room for about the input's size (--spill-dir)")
                        }
                        written &+= Int64(bytes)
                        next += count
                    }
                }
            }
        }
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
        let header = ExternalSorter.headerBytes
        guard try fill(header) else {
            if end - start > 0 { throw ExternalSorter.Failure(description: "the sort run \(path) ends in the middle of a record") }
            return false
        }
        let (key, length) = buffer.withUnsafeBytes { raw -> (Int64, Int) in
            (Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: Int64.self)),
             Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8, as: UInt32.self))))
        }
        start += header
        guard try fill(length) else { throw ExternalSorter.Failure(description: "the sort run \(path) ends in the middle of a record") }
        self.key = key
        recordStart = start
        recordLength = length
        return true
    }

    /// The current record's bytes (valid during `body`).
    func withRecord<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[recordStart..<recordStart + recordLength])) }
    }
}
