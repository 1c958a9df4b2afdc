import Foundation
import FileInspection
import SecurityModel

/// A URL taken apart and judged from its text alone, nothing fetched: scheme, credentials, host
/// (with its Unicode and Punycode forms), port, path; look-alike domains, IP hosts written to
/// hide, brands inside other domains, executable downloads, indicator-list matches. Pure.
public struct URLAnalysis: Sendable, Equatable, Encodable {
    /// How the host is written.
    public enum HostKind: String, Sendable, Encodable {
        case domain, ipv4, ipv6, none
    }

    public var input: String
    public var scheme: String
    public var user: String?
    /// The host as written, lower case.
    public var host: String
    /// The host in Unicode (Punycode labels decoded).
    public var hostUnicode: String
    /// The host in ASCII (Unicode labels encoded as Punycode): what DNS is asked.
    public var hostASCII: String
    public var hostKind: HostKind
    /// The last two labels (three under a two-letter country's `co.`, `com.`, `org.`... zone):
    /// an approximation of the registrable domain without the public suffix list.
    public var registrableDomain: String
    public var port: Int?
    public var path: String
    public var query: String
    public var fragment: String
    /// Every finding, with its weight.
    public var reasons: [ScanReason]

    /// Clean, suspicious or malicious: the heaviest reason's weight.
    public var verdict: ScanVerdict { reasons.map(\.weight).max() ?? .clean }

    /// The longest URL analysed, in UTF-8 bytes.
    public static let maxBytes = 8192

    /// Why a text is not a URL that can be analysed.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Options: the domains watched for look-alikes, and the indicator lists.
    public struct Context: Sendable {
        public var watchedDomains: [String]
        public var indicators: FileIndicators

        public init(watchedDomains: [String] = LookAlike.bundledWatched, indicators: FileIndicators = FileIndicators()) {
            self.watchedDomains = watchedDomains
            self.indicators = indicators
        }
    }

    static let executableExtensions: Set<String> = ["exe", "scr", "com", "bat", "cmd", "ps1", "vbs", "js", "jse", "hta", "msi", "apk", "jar",
                                                    "dll", "lnk", "iso", "img", "sh", "elf", "bin", "dmg", "pkg", "appx"]
    static let shorteners: Set<String> = ["bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly", "rebrand.ly", "t.ly", "shorturl.at"]
    static let abusedTLDs: Set<String> = ["zip", "mov", "top", "xyz", "tk", "ml", "ga", "cf", "gq", "click", "country", "kim", "work"]
    static let secondLevelZones: Set<String> = ["co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"]

    /// Takes `text` apart and judges it; throws when it is not an absolute URL.
    public static func analyse(_ text: String, context: Context = Context()) throws(Refusal) -> URLAnalysis {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw Refusal(description: "give a URL, such as https://example.com/login") }
        guard trimmed.utf8.count <= maxBytes else { throw Refusal(description: "the URL is \(trimmed.utf8.count) bytes; at most \(maxBytes) are analysed") }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw Refusal(description: "the URL holds control characters (a line break?); give one URL")
        }
        // A scheme starts with a letter (RFC 3986).
        guard let colon = trimmed.firstIndex(of: ":"), let first = trimmed.utf8.first, (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7a else {
            throw Refusal(description: "'\(trimmed.prefix(60))' has no scheme: write it whole, with https://")
        }
        let scheme = trimmed[..<colon].lowercased()
        guard scheme.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2b || $0 == 0x2d || $0 == 0x2e }) else {
            throw Refusal(description: "'\(scheme.prefix(30))' is not a URL scheme: write it whole, with https://")
        }
        var rest = trimmed[trimmed.index(after: colon)...]
        var analysis = URLAnalysis(input: trimmed, scheme: scheme, user: nil, host: "", hostUnicode: "", hostASCII: "", hostKind: .none,
                                   registrableDomain: "", port: nil, path: "", query: "", fragment: "", reasons: [])
        if let hash = rest.firstIndex(of: "#") { analysis.fragment = String(rest[rest.index(after: hash)...]); rest = rest[..<hash] }
        if let mark = rest.firstIndex(of: "?") { analysis.query = String(rest[rest.index(after: mark)...]); rest = rest[..<mark] }
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "\\" }) ?? rest.endIndex
            var authority = rest[..<end]
            analysis.path = String(rest[end...])
            if let at = authority.lastIndex(of: "@") {
                analysis.user = String(authority[..<at])
                authority = authority[authority.index(after: at)...]
            }
            try analysis.readHost(String(authority))
        } else {
            analysis.path = String(rest)
        }
        analysis.judge(context)
        return analysis
    }

    private mutating func readHost(_ authority: String) throws(Refusal) {
        var hostText = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Refusal(description: "the IPv6 host '\(authority.prefix(60))' has no closing ]") }
            hostText = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { try readPort(String(after.dropFirst())) }
            guard let address = IPAddress(hostText) else { throw Refusal(description: "'\(hostText.prefix(60))' is not an IPv6 address") }
            host = address.description
            hostUnicode = host
            hostASCII = host
            hostKind = .ipv6
            registrableDomain = host
            return
        }
        if let colon = authority.lastIndex(of: ":") {
            hostText = String(authority[..<colon])
            try readPort(String(authority[authority.index(after: colon)...]))
        }
        var name = hostText.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { throw Refusal(description: "the URL has no host") }
        host = name
        if let address = Self.obfuscatedIPv4(name) {
            hostKind = .ipv4
            hostUnicode = address
            hostASCII = address
            registrableDomain = address
            if address != name {
                reasons.append(ScanReason(code: "ip-host-obfuscated", weight: .suspicious, detail: "the host \(name) is the address \(address) written to hide it"))
            }
            return
        }
        hostKind = .domain
        var unicode: [String] = [], ascii: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            guard !label.isEmpty else { throw Refusal(description: "the host \(name.prefix(80)) has an empty label (two dots in a row)") }
            if label.hasPrefix("xn--") {
                guard let decoded = Punycode.decode(String(label.dropFirst(4))) else {
                    throw Refusal(description: "the label \(label.prefix(70)) of the host is not valid Punycode")
                }
                unicode.append(decoded.lowercased())
                ascii.append(label)
            } else if label.utf8.allSatisfy({ $0 < 0x80 }) {
                unicode.append(label)
                ascii.append(label)
            } else {
                guard let encoded = Punycode.encode(label) else { throw Refusal(description: "the label \(label.prefix(40)) is too long for a host") }
                unicode.append(label)
                ascii.append("xn--" + encoded)
            }
        }
        hostUnicode = unicode.joined(separator: ".")
        hostASCII = ascii.joined(separator: ".")
        guard hostASCII.utf8.count <= 253, ascii.allSatisfy({ $0.utf8.count <= 63 }) else {
            throw Refusal(description: "the host is longer than DNS allows (253 bytes, 63 per label)")
        }
        let labels = unicode
        let keep = labels.count >= 3 && labels[labels.count - 1].count == 2 && Self.secondLevelZones.contains(labels[labels.count - 2]) ? 3 : 2
        registrableDomain = labels.suffix(keep).joined(separator: ".")
    }

    private mutating func readPort(_ text: String) throws(Refusal) {
        guard !text.isEmpty else { return }
        guard text.utf8.count <= 5, let value = Int(text), (0...65_535).contains(value) else {
            throw Refusal(description: "the port '\(text.prefix(20))' is not a number from 0 to 65535")
        }
        port = value
    }

    /// The dotted address for a host written as an IPv4 address in any form browsers accept
    /// (`3232235777`, `0xC0A80001`, `0300.0250.0.1`, `192.168.1`), or nil for a name.
    static func obfuscatedIPv4(_ host: String) -> String? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            let text = part.lowercased()
            let value: UInt64?
            if text.hasPrefix("0x") { value = text.count > 2 ? UInt64(text.dropFirst(2), radix: 16) : 0 }
            else if text.hasPrefix("0") && text.count > 1 { value = UInt64(text.dropFirst(), radix: 8) }
            else { value = UInt64(text) }
            guard let value, text.utf8.count <= 12 else { return nil }
            numbers.append(value)
        }
        var address: UInt64 = 0
        for (index, number) in numbers.enumerated() {
            if index == numbers.count - 1 {
                let room = UInt64(1) << (8 * UInt64(5 - numbers.count))
                guard number < room else { return nil }
                address |= number
            } else {
                guard number < 256 else { return nil }
                address |= number << (8 * UInt64(3 - index))
            }
        }
        return [24, 16, 8, 0].map { String((address >> UInt64($0)) & 0xff) }.joined(separator: ".")
    }

    private mutating func judge(_ context: Context) {
        switch scheme {
        case "http", "https", "ftp", "ws", "wss": break
        case "javascript", "vbscript":
            reasons.append(ScanReason(code: "script-scheme", weight: .malicious, detail: "a \(scheme): URL runs code where it is opened"))
        case "data":
            reasons.append(ScanReason(code: "data-scheme", weight: .suspicious, detail: "a data: URL carries its content inline (phishing pages hide in them)"))
        case "file":
            reasons.append(ScanReason(code: "file-scheme", weight: .suspicious, detail: "a file: URL opens a local or network file"))
        default:
            reasons.append(ScanReason(code: "unusual-scheme", weight: .clean, detail: "the scheme \(scheme): is not a web scheme"))
        }
        if scheme == "http" { reasons.append(ScanReason(code: "plain-http", weight: .clean, detail: "plain http: whatever is typed there travels unencrypted")) }
        if let user {
            let shown = user.split(separator: ":").first.map(String.init) ?? user
            let weight: ScanVerdict = shown.contains(".") ? .suspicious : .clean
            reasons.append(ScanReason(code: "credentials-in-url", weight: weight, detail: shown.contains(".")
                ? "'\(shown.prefix(60))@' before the host makes the URL look like it goes to \(shown.prefix(60)); it goes to \(host)"
                : "the URL carries a user name\(user.contains(":") ? " and a password" : "") before the host"))
        }
        if let port, ![80, 443, 8080, 8443].contains(port) {
            reasons.append(ScanReason(code: "unusual-port", weight: .clean, detail: "port \(port)"))
        }
        switch hostKind {
        case .ipv4, .ipv6:
            reasons.append(ScanReason(code: "ip-host", weight: .suspicious, detail: "the host is an address, not a name (\(hostASCII))"))
            if let list = context.indicators.list(forAddress: hostASCII) {
                reasons.append(ScanReason(code: "address-indicator", weight: .malicious, detail: "the address \(hostASCII) is on the indicator list \(list)"))
            }
        case .domain:
            judgeDomain(context)
        case .none: break
        }
        let lastSegment = path.split(separator: "/").last.map(String.init) ?? ""
        if let dot = lastSegment.lastIndex(of: "."), Self.executableExtensions.contains(lastSegment[lastSegment.index(after: dot)...].lowercased()) {
            reasons.append(ScanReason(code: "executable-download", weight: .suspicious, detail: "the path ends in a program or script (\(lastSegment.prefix(80)))"))
        }
        if input.utf8.count > 2048 {
            reasons.append(ScanReason(code: "long-url", weight: .clean, detail: "\(input.utf8.count) bytes long"))
        }
    }

    private mutating func judgeDomain(_ context: Context) {
        // The domain and each parent against the lists: evil.example.com matches a list holding example.com.
        if let list = context.indicators.list(forDomain: hostASCII) ?? (hostUnicode != hostASCII ? context.indicators.list(forDomain: hostUnicode) : nil) {
            reasons.append(ScanReason(code: "domain-indicator", weight: .malicious, detail: "the host \(hostUnicode) is on the indicator list \(list)"))
        }
        if hostUnicode != hostASCII {
            reasons.append(ScanReason(code: "internationalised-host", weight: .clean, detail: "the host is written in Unicode: \(hostUnicode) is \(hostASCII)"))
            for label in hostUnicode.split(separator: ".") where Self.mixesScripts(String(label)) {
                reasons.append(ScanReason(code: "mixed-scripts", weight: .suspicious, detail: "the label \(label) mixes alphabets (Latin with Cyrillic or Greek letters that look the same)"))
                break
            }
        }
        if let (domain, how) = LookAlike.imitation(of: hostUnicode, registrable: registrableDomain, watched: context.watchedDomains) {
            reasons.append(ScanReason(code: "look-alike", weight: hostUnicode != hostASCII ? .malicious : .suspicious,
                                      detail: "\(registrableDomain) imitates \(domain): \(how)"))
        }
        if Self.shorteners.contains(registrableDomain) {
            reasons.append(ScanReason(code: "shortener", weight: .clean, detail: "\(registrableDomain) shortens links: where it leads is not known from the text"))
        }
        if let tld = hostASCII.split(separator: ".").last.map(String.init), Self.abusedTLDs.contains(tld) {
            reasons.append(ScanReason(code: "abused-tld", weight: .clean, detail: ".\(tld) names are often registered for abuse"))
        }
        let depth = hostASCII.split(separator: ".").count
        if depth >= 6 { reasons.append(ScanReason(code: "deep-subdomains", weight: .clean, detail: "\(depth) labels in the host")) }
    }

    /// Whether a label holds letters from more than one of Latin, Cyrillic, Greek and Armenian.
    static func mixesScripts(_ label: String) -> Bool {
        var scripts = Set<Int>()
        for scalar in label.unicodeScalars where scalar.properties.isAlphabetic {
            switch scalar.value {
            case 0x41...0x24F: scripts.insert(0)
            case 0x370...0x3FF: scripts.insert(1)
            case 0x400...0x52F: scripts.insert(2)
            case 0x530...0x58F: scripts.insert(3)
            default: scripts.insert(4)
            }
        }
        return scripts.count > 1
    }
}
