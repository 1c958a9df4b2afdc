import Crypto

/// A file's MD5, SHA-1 and SHA-256, as lowercase hex: the three names indicator feeds use.
public struct FileDigests: Sendable, Equatable, Codable {
    public var md5: String
    public var sha1: String
    public var sha256: String

    public init(md5: String, sha1: String, sha256: String) {
        self.md5 = md5
        self.sha1 = sha1
        self.sha256 = sha256
    }
}

/// The three digests of a stream, fed chunk by chunk (swift-crypto's BoringSSL, with the CPU's SHA
/// instructions where it has them). MD5 (the slowest: no CPU instructions help it) and the two
/// SHAs are separate parts, so that two cores can each take one.
public struct DigestAccumulator: Sendable {
    public var md5Part = MD5Part()
    public var shaPart = SHAPart()

    public init() {}

    public mutating func update(_ chunk: UnsafeRawBufferPointer) {
        md5Part.update(chunk)
        shaPart.update(chunk)
    }

    public func finalize() -> FileDigests {
        let (sha1, sha256) = shaPart.finalize()
        return FileDigests(md5: md5Part.finalize(), sha1: sha1, sha256: sha256)
    }

    public struct MD5Part: Sendable {
        private var md5 = Insecure.MD5()
        public init() {}
        public mutating func update(_ chunk: UnsafeRawBufferPointer) { md5.update(bufferPointer: chunk) }
        public func finalize() -> String { Hex.string(md5.finalize()) }
    }

    public struct SHAPart: Sendable {
        private var sha1 = Insecure.SHA1()
        private var sha256 = SHA256()
        public init() {}
        public mutating func update(_ chunk: UnsafeRawBufferPointer) {
            sha1.update(bufferPointer: chunk)
            sha256.update(bufferPointer: chunk)
        }
        public func finalize() -> (sha1: String, sha256: String) { (Hex.string(sha1.finalize()), Hex.string(sha256.finalize())) }
    }
}

/// SHA-256 alone, for file integrity baselines.
public struct ContentHasher: Sendable {
    private var sha256 = SHA256()

    public init() {}

    public mutating func update(_ chunk: UnsafeRawBufferPointer) { sha256.update(bufferPointer: chunk) }

    public func finalize() -> String { Hex.string(sha256.finalize()) }
}

/// Lowercase hex of a digest's bytes.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func string<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is `length` hex digits (either case).
    static func isDigest(_ text: Substring, length: Int) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }
    }
}
