import SecurityModel

/// The DNS wire format (RFC 1035) for one question and its answers: building a query, reading a
/// response. Pure; every read is bounds-checked and name compression is followed a bounded number
/// of times, so a hostile answer is an error, never a trap or a loop.
public enum DNSMessage {
    /// Record types the tool asks for and reads.
    public enum RecordType: UInt16, Sendable, CaseIterable, Codable {
        case a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, mx = 15, txt = 16, aaaa = 28

        /// `A`, `AAAA`, `MX`...
        public var name: String { String(describing: self).uppercased() }

        /// Parses `A`, `aaaa`, `MX`...
        public init?(name: String) {
            guard let type = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
            self = type
        }
    }

    /// One answer record.
    public struct Record: Sendable, Equatable, Codable {
        public var name: String
        /// The type's name (`A`), or `TYPE65` for types not read here.
        public var type: String
        public var ttl: UInt32
        /// The data as `dig` shows it: an address, `10 mail.example.com`, a quoted text.
        public var data: String
    }

    /// What a response said.
    public struct Response: Sendable, Equatable {
        public var id: UInt16
        /// The response code: 0 no error, 2 server failure, 3 no such name (NXDOMAIN), 5 refused.
        public var rcode: UInt8
        public var truncated: Bool
        public var answers: [Record]

        /// The response code in words.
        public var status: String {
            switch rcode {
            case 0: "NOERROR"
            case 1: "FORMERR (the server could not read the question)"
            case 2: "SERVFAIL (the server failed to answer)"
            case 3: "NXDOMAIN (no such name)"
            case 4: "NOTIMP (the server does not do this)"
            case 5: "REFUSED (the server refused to answer)"
            default: "response code \(rcode)"
            }
        }
    }

    /// A response that cannot be read: where, and what is wrong.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// A query for `name` (already validated and in ASCII, see ``DomainName``) of `type`, with
    /// recursion desired.
    public static func query(id: UInt16, name: String, type: RecordType) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes += [0, UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff), 0, 1]
        return bytes
    }

    /// Reads a response to a query with `id`.
    public static func parse(_ bytes: [UInt8], expecting id: UInt16) throws(Malformed) -> Response {
        var reader = Reader(bytes: bytes)
        let answerID = try reader.u16("header")
        guard answerID == id else { throw Malformed(description: "the answer's id \(answerID) is not the question's \(id): not our answer") }
        let flags = try reader.u16("header")
        guard flags & 0x8000 != 0 else { throw Malformed(description: "the message is a question, not an answer") }
        let questions = try reader.u16("header"), answerCount = try reader.u16("header")
        _ = try reader.u16("header")
        _ = try reader.u16("header")
        for _ in 0..<questions {
            _ = try reader.name("question")
            try reader.skip(4, "question")
        }
        var answers: [Record] = []
        let truncated = flags & 0x0200 != 0
        for index in 0..<Int(answerCount) {
            do {
                answers.append(try reader.record())
            } catch {
                // A truncated answer keeps the records that arrived whole.
                if truncated { break }
                throw Malformed(description: "answer \(index + 1) of \(answerCount): \(error.description)")
            }
        }
        return Response(id: answerID, rcode: UInt8(flags & 0x000f), truncated: truncated, answers: answers)
    }

    /// Bounds-checked reading of a message.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        /// At most this many compression pointers are followed in one name (a loop stops here).
        static let maxJumps = 32

        mutating func u8(_ part: String) throws(Malformed) -> UInt8 {
            guard offset < bytes.count else { throw Malformed(description: "the message ends inside the \(part) (\(bytes.count) bytes)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16(_ part: String) throws(Malformed) -> UInt16 {
            UInt16(try u8(part)) << 8 | UInt16(try u8(part))
        }

        mutating func u32(_ part: String) throws(Malformed) -> UInt32 {
            UInt32(try u16(part)) << 16 | UInt32(try u16(part))
        }

        mutating func skip(_ count: Int, _ part: String) throws(Malformed) {
            guard count <= bytes.count - offset else { throw Malformed(description: "the message ends inside the \(part)") }
            offset += count
        }

        /// A name at the current offset, following compression pointers.
        mutating func name(_ part: String) throws(Malformed) -> String {
            var labels: [String] = []
            var position = offset
            var jumps = 0
            var length = 0
            var resume: Int?
            while true {
                guard position < bytes.count else { throw Malformed(description: "a name in the \(part) runs past the end") }
                let size = Int(bytes[position])
                if size == 0 { position += 1; break }
                if size & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count else { throw Malformed(description: "a name pointer in the \(part) is cut off") }
                    jumps += 1
                    guard jumps <= Self.maxJumps else { throw Malformed(description: "a name in the \(part) loops (over \(Self.maxJumps) pointers)") }
                    if resume == nil { resume = position + 2 }
                    let target = (size & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < bytes.count else { throw Malformed(description: "a name pointer in the \(part) points past the end") }
                    position = target
                    continue
                }
                guard size <= 63 else { throw Malformed(description: "a label in the \(part) has the reserved length bits \(size >> 6)") }
                guard position + 1 + size <= bytes.count else { throw Malformed(description: "a label in the \(part) runs past the end") }
                length += size + 1
                guard length <= 255 else { throw Malformed(description: "a name in the \(part) is longer than 255 bytes") }
                labels.append(Self.printable(bytes[(position + 1)..<(position + 1 + size)]))
                position += 1 + size
            }
            offset = resume ?? position
            return labels.isEmpty ? "." : labels.joined(separator: ".")
        }

        mutating func record() throws(Malformed) -> Record {
            let owner = try name("record")
            let typeCode = try u16("record")
            _ = try u16("record")  // class
            let ttl = try u32("record")
            let length = Int(try u16("record"))
            guard length <= bytes.count - offset else { throw Malformed(description: "its data (\(length) bytes) runs past the end") }
            let start = offset
            let end = offset + length
            let type = RecordType(rawValue: typeCode)
            var data: String
            switch type {
            case .a:
                guard length == 4, let address = IPAddress(networkBytes: bytes[start..<end]) else { throw Malformed(description: "an A record of \(length) bytes, not 4") }
                data = address.description
            case .aaaa:
                guard length == 16, let address = IPAddress(networkBytes: bytes[start..<end]) else { throw Malformed(description: "an AAAA record of \(length) bytes, not 16") }
                data = address.description
            case .mx:
                let preference = try u16("MX record")
                data = "\(preference) " + (try name("MX record"))
            case .ptr, .cname, .ns:
                data = try name("\(type!.name) record")
            case .txt:
                var parts: [String] = []
                var position = start
                while position < end {
                    let size = Int(bytes[position])
                    guard position + 1 + size <= end else { throw Malformed(description: "a TXT string runs past its record") }
                    parts.append("\"" + Self.printable(bytes[(position + 1)..<(position + 1 + size)]) + "\"")
                    position += 1 + size
                }
                data = parts.joined(separator: " ")
            case .soa:
                let primary = try name("SOA record"), mailbox = try name("SOA record")
                data = "\(primary) \(mailbox)"
            case nil:
                data = "\(length) bytes"
            }
            guard offset <= end else { throw Malformed(description: "a name inside its data runs past the record") }
            offset = end
            return Record(name: owner, type: type?.name ?? "TYPE\(typeCode)", ttl: ttl, data: data)
        }

        /// Bytes as text, with anything but printable ASCII escaped as `\DDD` (as `dig` does).
        static func printable(_ slice: ArraySlice<UInt8>) -> String {
            var out = ""
            for byte in slice {
                if byte >= 0x21 && byte < 0x7f && byte != 0x5c && byte != 0x22 { out.append(Character(Unicode.Scalar(byte))) }
                else if byte == 0x20 { out.append(" ") }
                else { out += "\\" + String(byte).leftPadded(to: 3) }
            }
            return out
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
