import SecurityModel

/// Top-level keys the scanner looks for, with their lengths and bytes in one block, so that a key
/// in the line is matched by length and a word-wise compare instead of building it.
final class KeyTable: @unchecked Sendable {
    struct Entry {
        let offset: Int
        let length: Int
        /// Slot to fill, or -1.
        let slot: Int
        /// Preference among time keys, or -1.
        let timeRank: Int
    }

    private let entries: [Entry]
    private let bytes: UnsafeMutablePointer<UInt8>

    init(wanted: [([UInt8], Int)], timeKeys: [[UInt8]]) {
        var names: [[UInt8]] = []
        var slots: [Int] = []
        var ranks: [Int] = []
        for (path, slot) in wanted {
            names.append(path); slots.append(slot); ranks.append(-1)
        }
        for (rank, key) in timeKeys.enumerated() {
            if let existing = names.firstIndex(of: key) { if ranks[existing] < 0 { ranks[existing] = rank } } else {
                names.append(key); slots.append(-1); ranks.append(rank)
            }
        }
        bytes = .allocate(capacity: max(1, names.reduce(0) { $0 + $1.count }))
        var offset = 0
        var entries: [Entry] = []
        for (index, name) in names.enumerated() {
            for (k, byte) in name.enumerated() { bytes[offset + k] = byte }
            entries.append(Entry(offset: offset, length: name.count, slot: slots[index], timeRank: ranks[index]))
            offset += name.count
        }
        self.entries = entries
    }

    deinit { bytes.deallocate() }

    /// The entry whose name is the `count` bytes at `key`.
    @inline(__always)
    func find(_ key: UnsafePointer<UInt8>, count: Int) -> Entry? {
        for entry in entries where entry.length == count {
            if WordBytes.same(key, bytes + entry.offset, count) { return entry }
        }
        return nil
    }
}
