/// What the kernel's process connector (`cn_proc`) reports, decoded from its netlink datagrams.
///
/// Layout (little-endian, as the kernel writes it on this machine): a 16-byte `nlmsghdr`, a 20-byte
/// `cn_msg` (`idx`, `val`, `seq`, `ack`, `len`, `flags`), then `proc_event`: `what` (u32), `cpu`
/// (u32), `timestamp_ns` (u64), and the event's data from byte 16 of it.
public enum ProcessConnectorMessage: Equatable, Sendable {
    /// A process (thread group `pid`) replaced its image: a new program runs.
    case exec(pid: Int32)
    /// `parent` forked `child` (a new thread group when `child` is its own leader).
    case fork(parent: Int32, child: Int32)
    case exit(pid: Int32)
    /// The reply to subscribing, and event kinds not used here (uid, comm, ptrace, ...).
    case other

    static let header = 16
    static let connectorHeader = 20
    static let eventData = header + connectorHeader + 16

    /// The events in one datagram (normally one); truncated or foreign messages give none.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> [ProcessConnectorMessage] {
        var messages: [ProcessConnectorMessage] = []
        var offset = 0
        while offset + header <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            guard length >= header, length <= bytes.count - offset else { break }
            let message = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            // cn_msg's id: CN_IDX_PROC (1), CN_VAL_PROC (1).
            if message.count >= eventData,
               message.loadUnaligned(fromByteOffset: header, as: UInt32.self).littleEndian == 1,
               message.loadUnaligned(fromByteOffset: header + 4, as: UInt32.self).littleEndian == 1 {
                func word(_ at: Int) -> Int32? {
                    at + 4 <= message.count ? Int32(bitPattern: message.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian) : nil
                }
                let what = message.loadUnaligned(fromByteOffset: header + connectorHeader, as: UInt32.self).littleEndian
                switch what {
                case 0x0000_0001:  // PROC_EVENT_FORK: parent_pid, parent_tgid, child_pid, child_tgid
                    if let parent = word(eventData + 4), let child = word(eventData + 8), let childGroup = word(eventData + 12), child == childGroup {
                        messages.append(.fork(parent: parent, child: child))
                    } else {
                        messages.append(.other)  // a new thread, not a process
                    }
                case 0x0000_0002:  // PROC_EVENT_EXEC: process_pid, process_tgid
                    messages.append(word(eventData + 4).map { .exec(pid: $0) } ?? .other)
                case 0x8000_0000:  // PROC_EVENT_EXIT: process_pid, process_tgid, ...
                    if let pid = word(eventData), let group = word(eventData + 4), pid == group {
                        messages.append(.exit(pid: group))
                    } else {
                        messages.append(.other)
                    }
                default:
                    messages.append(.other)
                }
            }
            // Messages are aligned to 4 bytes.
            let (next, overflow) = offset.addingReportingOverflow((length + 3) & ~3)
            guard !overflow else { break }
            offset = next
        }
        return messages
    }
}
