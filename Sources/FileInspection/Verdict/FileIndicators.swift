import SecurityModel

/// What the scanner compares a file against: hashes of known-bad files, addresses and domains
/// of known-bad infrastructure. Each entry remembers the list it came from, so a verdict can say
/// which list matched.
public struct FileIndicators: Sendable {
    private var hashes: [String: String] = [:]
    private var addresses: [IPAddress: String] = [:]
    private var networks: [(CIDRBlock, String)] = []
    private var domains: [String: String] = [:]

    public init() {}

    /// Entries that are neither hashes, addresses, networks nor domains, with their list.
    public private(set) var ignored: [(list: String, entry: String)] = []

    /// Hashes (MD5, SHA-1 or SHA-256 hex), IPv4/IPv6 addresses and networks, and domains, all in
    /// one list: each entry is sorted by its shape.
    public mutating func add(list: String, entries: [String]) {
        for raw in entries {
            let entry = raw.trimmingASCIIWhitespace().lowercased()
            if entry.isEmpty { continue }
            let sub = Substring(entry)
            if Hex.isDigest(sub, length: 32) || Hex.isDigest(sub, length: 40) || Hex.isDigest(sub, length: 64) {
                hashes[entry] = hashes[entry] ?? list
            } else if let address = IPAddress(entry) {
                addresses[address] = addresses[address] ?? list
            } else if entry.contains("/"), let block = CIDRBlock(entry) {
                networks.append((block, list))
            } else if Self.isDomain(entry) {
                let domain = entry.hasSuffix(".") ? String(entry.dropLast()) : entry
                domains[domain] = domains[domain] ?? list
            } else if ignored.count < 100 {
                ignored.append((list, raw))
            }
        }
    }

    public var isEmpty: Bool { hashes.isEmpty && addresses.isEmpty && networks.isEmpty && domains.isEmpty }

    public var count: Int { hashes.count + addresses.count + networks.count + domains.count }

    /// The list naming any of the file's digests.
    public func list(for digests: FileDigests) -> (hash: String, list: String)? {
        for hash in [digests.sha256, digests.sha1, digests.md5] {
            if let list = hashes[hash] { return (hash, list) }
        }
        return nil
    }

    /// The list naming `text` as an address or inside a listed network.
    public func list(forAddress text: String) -> String? {
        guard let address = IPAddress(text) else { return nil }
        if let list = addresses[address] { return list }
        return networks.first { $0.0.contains(address) }?.1
    }

    /// The list naming `host` or a domain it is under (`a.evil.example` is under `evil.example`).
    public func list(forDomain host: String) -> String? {
        var name = Substring(host.lowercased())
        while true {
            if let list = domains[String(name)] { return list }
            guard let dot = name.firstIndex(of: ".") else { return nil }
            name = name[name.index(after: dot)...]
            if !name.contains(".") { return nil }
        }
    }

    static func isDomain(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        guard labels.count >= 2, text.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs, carriage returns and newlines.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension FileIndicators {
    /// The list every scanner has whatever administrators keep: the EICAR anti-virus test file
    /// (its MD5, SHA-1 and SHA-256), so that an admin can check the scanner end to end with a
    /// harmless file.
    public static let bundledList = (name: "secmon_test_files", entries: [
        "44d88612fea8a8f36de82e1278abb02f",
        "3395856ce81f2b7382dee72602f798b642f14140",
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
    ])

    /// The bundled list, and `lists` (name and entries) after it.
    public static func with(_ lists: [(name: String, entries: [String])]) -> FileIndicators {
        var indicators = FileIndicators()
        indicators.add(list: bundledList.name, entries: bundledList.entries)
        for list in lists { indicators.add(list: list.name, entries: list.entries) }
        return indicators
    }
}
