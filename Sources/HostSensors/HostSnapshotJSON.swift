import Foundation

/// Writes a ``HostSnapshot`` as compact JSON with sorted keys: what `JSONEncoder` gives with
/// `.sortedKeys` and `.withoutEscapingSlashes`, byte-for-byte in meaning, written straight into
/// one buffer. The processes and sockets (thousands of each on a busy host) are written by hand:
/// Foundation's encoder spent 40 % of `secmon host snapshot` on them with 8,000 connections open;
/// the small parts (the system sample, the counts) still go through `JSONEncoder`.
public enum HostSnapshotJSON {
    /// The snapshot as JSON bytes (no trailing newline).
    public static func encode(_ snapshot: HostSnapshot) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [UInt8] = []
        out.reserveCapacity(256 + snapshot.processes.count * 400 + snapshot.sockets.count * 200)
        out += Array(#"{"counts":"#.utf8)
        out += try encoder.encode(snapshot.counts)
        out += Array(#","problems":"#.utf8)
        out += try encoder.encode(snapshot.problems)
        out += Array(#","processes":["#.utf8)
        for (index, process) in snapshot.processes.enumerated() {
            if index > 0 { out.append(0x2C) }
            write(process, into: &out)
        }
        out += Array(#"],"sockets":["#.utf8)
        for (index, socket) in snapshot.sockets.enumerated() {
            if index > 0 { out.append(0x2C) }
            write(socket, into: &out)
        }
        out += Array(#"],"system":"#.utf8)
        out += try encoder.encode(snapshot.system)
        out.append(0x7D)
        return out
    }

    /// One process, its keys in sorted order (those of `HostProcess.CodingKeys`).
    static func write(_ process: HostProcess, into out: inout [UInt8]) {
        var object = ObjectWriter(taking: &out)
        object.string("command_line", process.commandLine)
        object.bool("command_line_truncated", process.commandLineTruncated)
        object.number("cpu_percent", process.cpuPercent)
        object.optionalString("current_directory", process.currentDirectory)
        object.optionalString("executable", process.executable)
        object.bool("executable_deleted", process.executableDeleted)
        object.bool("kernel_thread", process.isKernelThread)
        object.string("name", process.name)
        object.integer("parent", Int64(process.parent))
        object.integer("pid", Int64(process.pid))
        object.unsigned("resident_bytes", process.residentBytes)
        object.integer("socket_count", Int64(process.socketCount))
        object.unsigned("start_ticks", process.startTicks)
        object.integer("start_time", process.startTime)
        object.string("state", process.state)
        object.integer("threads", Int64(process.threads))
        object.unsigned("uid", UInt64(process.uid))
        object.string("user", process.user)
        object.unsigned("virtual_bytes", process.virtualBytes)
        object.finish(into: &out)
    }

    /// One socket, its keys in sorted order (those of `HostSocket.CodingKeys`).
    static func write(_ socket: HostSocket, into out: inout [UInt8]) {
        var object = ObjectWriter(taking: &out)
        object.unsigned("inode", socket.inode)
        object.string("local_address", socket.localAddress)
        object.unsigned("local_port", UInt64(socket.localPort))
        if let pid = socket.pid { object.integer("pid", Int64(pid)) }
        object.optionalString("process", socket.process)
        object.string("protocol", socket.proto)
        object.string("remote_address", socket.remoteAddress)
        object.unsigned("remote_port", UInt64(socket.remotePort))
        object.string("state", socket.state)
        object.unsigned("uid", UInt64(socket.uid))
        object.finish(into: &out)
    }

    /// Appends one JSON object's members; optional values that are nil are left out, as
    /// `JSONEncoder` leaves them out. It takes the buffer over (swapped, never copied: a copy
    /// per object made a snapshot of thousands of sockets quadratic) and hands it back.
    struct ObjectWriter {
        var out: [UInt8] = []
        var first = true

        init(taking buffer: inout [UInt8]) {
            swap(&out, &buffer)
            out.append(0x7B)
        }

        mutating func key(_ name: StaticString) {
            if !first { out.append(0x2C) }
            first = false
            out.append(0x22)
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(0x22)
            out.append(0x3A)
        }

        mutating func string(_ name: StaticString, _ value: String) {
            key(name)
            HostSnapshotJSON.appendString(value, to: &out)
        }

        mutating func optionalString(_ name: StaticString, _ value: String?) {
            if let value { string(name, value) }
        }

        mutating func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            out += value ? Array("true".utf8) : Array("false".utf8)
        }

        mutating func integer(_ name: StaticString, _ value: Int64) {
            key(name)
            out += Array(String(value).utf8)
        }

        mutating func unsigned(_ name: StaticString, _ value: UInt64) {
            key(name)
            out += Array(String(value).utf8)
        }

        /// A finite double as Swift prints it, without a trailing `.0` (as `JSONEncoder` writes
        /// it); a value that is not finite (never read from `/proc`) as 0.
        mutating func number(_ name: StaticString, _ value: Double) {
            key(name)
            guard value.isFinite else { out.append(0x30); return }
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out += Array(text.utf8)
        }

        mutating func finish(into buffer: inout [UInt8]) {
            out.append(0x7D)
            swap(&out, &buffer)
        }
    }

    /// `value` as a JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, ... or
    /// `\u00XX`; everything else as its UTF-8 bytes (`/` unescaped).
    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(0x22)
        for byte in value.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
