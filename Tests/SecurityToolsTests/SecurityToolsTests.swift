import FileInspection
import Foundation
import SecurityModel
import Testing
@testable import SecurityTools

@Suite("Punycode")
struct PunycodeTests {
    @Test("RFC 3492's samples and well-known labels round-trip")
    func vectors() {
        // RFC 3492 section 7.1 (A) Arabic (Egyptian), (L) Japanese 3年B組金八先生, and IDNA examples.
        let samples = [
            ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
            ("3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"),
            ("bücher", "bcher-kva"),
            ("münchen", "mnchen-3ya"),
            ("аррӏе", "80ak6aa92e"),
        ]
        for (unicode, ascii) in samples {
            #expect(Punycode.encode(unicode) == ascii, "\(unicode)")
            #expect(Punycode.decode(ascii) == unicode, "\(ascii)")
        }
    }

    @Test("hostile labels are refused, never a trap")
    func hostile() {
        #expect(Punycode.decode("99999999999999999999999999") == nil)
        #expect(Punycode.decode("abc-ü") == nil)
        #expect(Punycode.decode("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") == nil)
        #expect(Punycode.decode(String(repeating: "a", count: 100)) == nil)
        _ = Punycode.decode("---")  // must not trap
        #expect(Punycode.encode(String(repeating: "ü", count: 64)) == nil)
    }
}

@Suite("URL analysis")
struct URLAnalysisTests {
    @Test("a plain URL is taken apart and clean")
    func plain() throws {
        let url = try URLAnalysis.analyse("https://www.example.com:8443/a/b?x=1#frag")
        #expect(url.scheme == "https" && url.host == "www.example.com" && url.port == 8443)
        #expect(url.path == "/a/b" && url.query == "x=1" && url.fragment == "frag")
        #expect(url.registrableDomain == "example.com" && url.hostKind == .domain)
        #expect(url.verdict == .clean)
        #expect(try URLAnalysis.analyse("https://shop.example.co.uk/").registrableDomain == "example.co.uk")
    }

    @Test("homographs in Punycode and Unicode, typo-squats, brands in other domains and behind @ are called out")
    func lookAlikes() throws {
        let punycode = try URLAnalysis.analyse("https://xn--80ak6aa92e.com/")
        #expect(punycode.hostUnicode == "аррӏе.com")
        #expect(punycode.verdict == .malicious)
        #expect(punycode.reasons.contains { $0.code == "look-alike" && $0.detail.contains("apple.com") })
        let unicode = try URLAnalysis.analyse("https://pаypal.com/signin")  // Cyrillic а
        #expect(unicode.hostASCII.hasPrefix("xn--"))
        #expect(unicode.reasons.contains { $0.code == "mixed-scripts" })
        #expect(unicode.reasons.contains { $0.code == "look-alike" && $0.detail.contains("paypal.com") })
        let typo = try URLAnalysis.analyse("http://paypa1.com/")
        #expect(typo.reasons.contains { $0.code == "look-alike" } && typo.verdict == .suspicious)
        let swapped = try URLAnalysis.analyse("https://micorsoft.com/")
        #expect(swapped.reasons.contains { $0.code == "look-alike" && $0.detail.contains("microsoft.com") })
        let inside = try URLAnalysis.analyse("https://secure-paypal-login.net/")
        #expect(inside.reasons.contains { $0.code == "look-alike" })
        let prefix = try URLAnalysis.analyse("https://paypal.com.account-verify.xyz/")
        #expect(prefix.reasons.contains { $0.code == "look-alike" } && prefix.reasons.contains { $0.code == "abused-tld" })
        let at = try URLAnalysis.analyse("https://www.paypal.com@203.0.113.9/login")
        #expect(at.host == "203.0.113.9" && at.hostKind == .ipv4)
        #expect(at.reasons.contains { $0.code == "credentials-in-url" && $0.weight == .suspicious })
        // The real thing, and its subdomains, are not look-alikes.
        #expect(try URLAnalysis.analyse("https://www.paypal.com/signin").verdict == .clean)
        // An organisation's own domain, watched.
        let own = try URLAnalysis.analyse("https://examp1e-corp.com/", context: .init(watchedDomains: ["example-corp.com"]))
        #expect(own.reasons.contains { $0.code == "look-alike" && $0.detail.contains("example-corp.com") })
    }

    @Test("addresses written to hide, script schemes, executable downloads, indicator lists")
    func signals() throws {
        let decimal = try URLAnalysis.analyse("http://3232235777/")
        #expect(decimal.hostASCII == "192.168.1.1" && decimal.reasons.contains { $0.code == "ip-host-obfuscated" })
        #expect(try URLAnalysis.analyse("http://0xC0.0250.1.1/").hostASCII == "192.168.1.1")
        #expect(try URLAnalysis.analyse("http://[2001:db8::1]:8080/").hostKind == .ipv6)
        #expect(try URLAnalysis.analyse("javascript:alert(1)").verdict == .malicious)
        #expect(try URLAnalysis.analyse("https://files.example.net/invoice.pdf.exe").reasons.contains { $0.code == "executable-download" })
        var indicators = FileIndicators.with([("bad_domains", ["evil.example"]), ("bad_ips", ["198.51.100.0/24"])])
        let listed = try URLAnalysis.analyse("https://cdn.evil.example/x", context: .init(indicators: indicators))
        #expect(listed.verdict == .malicious && listed.reasons.contains { $0.detail.contains("bad_domains") })
        let address = try URLAnalysis.analyse("http://198.51.100.7/", context: .init(indicators: indicators))
        #expect(address.verdict == .malicious)
        indicators = FileIndicators()
        #expect(try URLAnalysis.analyse("https://bit.ly/abc", context: .init(indicators: indicators)).reasons.contains { $0.code == "shortener" })
    }

    @Test("what is not a URL is refused with a reason")
    func refusals() {
        for (text, words) in [("", "give a URL"), ("example.com/login", "no scheme"), ("https://exa mple..com/", "empty label"),
                              ("https://host:99999/", "port"), ("https://a.com/\nb", "control characters"),
                              ("http://[::1/", "closing ]"), (String(repeating: "a", count: 9000), "bytes")] {
            #expect(throws: URLAnalysis.Refusal.self) { try URLAnalysis.analyse(text) }
            do { _ = try URLAnalysis.analyse(text) } catch { #expect(error.description.contains(words), "\(text.prefix(30)): \(error)") }
        }
    }
}

@Suite("DNS messages")
struct DNSMessageTests {
    /// A response to `query` with the given answer records (already encoded).
    static func response(to query: [UInt8], rcode: UInt8 = 0, answers: [[UInt8]], truncated: Bool = false) -> [UInt8] {
        var bytes = query
        bytes[2] = 0x81 | (truncated ? 0x02 : 0)
        bytes[3] = 0x80 | rcode
        bytes[6] = UInt8(answers.count >> 8)
        bytes[7] = UInt8(answers.count & 0xff)
        for answer in answers { bytes += answer }
        return bytes
    }

    /// A record whose owner is a pointer to the question's name (offset 12).
    static func record(type: UInt16, ttl: UInt32 = 300, data: [UInt8]) -> [UInt8] {
        [0xC0, 12, UInt8(type >> 8), UInt8(type & 0xff), 0, 1] + [24, 16, 8, 0].map { UInt8((ttl >> $0) & 0xff) }
            + [UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    }

    @Test("a query is the RFC 1035 layout; answers of every type read back, compressed names included")
    func roundTrip() throws {
        let query = DNSMessage.query(id: 0xBEEF, name: "example.com", type: .mx)
        #expect(query == [0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 15, 0, 1])
        let mailHost: [UInt8] = [4] + Array("mail".utf8) + [0xC0, 12]
        let answers = [
            Self.record(type: 15, data: [0, 10] + mailHost),
            Self.record(type: 1, data: [192, 0, 2, 7]),
            Self.record(type: 28, data: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]),
            Self.record(type: 16, data: [11] + Array("v=spf1 -all".utf8) + [3] + Array("a\"b".utf8)),
            Self.record(type: 99, data: [1, 2, 3]),
        ]
        let response = try DNSMessage.parse(Self.response(to: query, answers: answers), expecting: 0xBEEF)
        #expect(response.status == "NOERROR" && !response.truncated)
        #expect(response.answers.map(\.data) == ["10 mail.example.com", "192.0.2.7", "2001:db8::1", "\"v=spf1 -all\" \"a\\034b\"", "3 bytes"])
        #expect(response.answers.map(\.type) == ["MX", "A", "AAAA", "TXT", "TYPE99"])
        #expect(response.answers.allSatisfy { $0.name == "example.com" && $0.ttl == 300 })
        let missing = try DNSMessage.parse(Self.response(to: query, rcode: 3, answers: []), expecting: 0xBEEF)
        #expect(missing.status.hasPrefix("NXDOMAIN") && missing.answers.isEmpty)
    }

    @Test("hostile answers are errors: pointer loops, cut messages, lengths past the end, wrong ids")
    func hostile() {
        let query = DNSMessage.query(id: 7, name: "example.com", type: .ptr)
        // A PTR whose name points at itself.
        let loopOffset = UInt8(query.count + 12)
        let loop = Self.response(to: query, answers: [Self.record(type: 12, data: [0xC0, loopOffset])])
        #expect(throws: DNSMessage.Malformed.self) { try DNSMessage.parse(loop, expecting: 7) }
        do { _ = try DNSMessage.parse(loop, expecting: 7) } catch { #expect(error.description.contains("loops")) }
        let good = Self.response(to: query, answers: [Self.record(type: 1, data: [192, 0, 2, 1])])
        for cut in [3, 12, 20, query.count + 5, good.count - 1] {
            #expect(throws: DNSMessage.Malformed.self) { try DNSMessage.parse(Array(good.prefix(cut)), expecting: 7) }
        }
        var long = good
        long[long.count - 5] = 0xFF  // data length 0xFF04
        #expect(throws: DNSMessage.Malformed.self) { try DNSMessage.parse(long, expecting: 7) }
        #expect(throws: DNSMessage.Malformed.self) { try DNSMessage.parse(good, expecting: 8) }
        #expect(throws: DNSMessage.Malformed.self) { try DNSMessage.parse(Self.response(to: query, answers: [Self.record(type: 1, data: [1, 2, 3])]), expecting: 7) }
        // Truncated: the whole records are kept.
        let truncated = Self.response(to: query, answers: [Self.record(type: 1, data: [192, 0, 2, 1])], truncated: true)
        var header = truncated
        header[7] = 2  // says two answers, holds one
        #expect((try? DNSMessage.parse(header, expecting: 7))?.answers.count == 1)
        // Random bytes never trap.
        var state: UInt64 = 42
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes[Int(state >> 33) % bytes.count] = UInt8(truncatingIfNeeded: state >> 17)
            }
            _ = try? DNSMessage.parse(bytes, expecting: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
        }
    }

    @Test("names are validated, Unicode asked in Punycode, addresses reversed for PTR")
    func names() throws {
        #expect(try DomainName.validate("Example.COM.") == "example.com")
        #expect(try DomainName.validate("_dmarc.example.com") == "_dmarc.example.com")
        #expect(try DomainName.validate("bücher.example") == "xn--bcher-kva.example")
        for bad in ["", "a..b", "-a.com", "a b.com", "https://example.com/", String(repeating: "a", count: 64) + ".com", "a;rm -rf.com"] {
            #expect(throws: DomainName.Refusal.self, "\(bad)") { try DomainName.validate(bad) }
        }
        #expect(DomainName.reverse(IPAddress("192.0.2.7")!) == "7.2.0.192.in-addr.arpa")
        #expect(DomainName.reverse(IPAddress("2001:db8::1")!).hasPrefix("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"))
    }
}

@Suite("Tool targets")
struct ToolTargetsTests {
    @Test("loopback always; allowlisted networks and names; every resolved address must be allowed")
    func targets() throws {
        let none = ToolTargets()
        #expect(try none.check(host: "127.0.0.1", resolved: [IPAddress("127.0.0.1")!]) == IPAddress("127.0.0.1"))
        #expect(try none.check(host: "::1", resolved: [IPAddress("::1")!]) == IPAddress("::1"))
        #expect(throws: ToolTargets.Refusal.self) { try none.check(host: "192.0.2.5", resolved: [IPAddress("192.0.2.5")!]) }
        // A name that resolves to loopback and elsewhere is refused (rebinding, split answers).
        #expect(throws: ToolTargets.Refusal.self) { try none.check(host: "trick.example", resolved: [IPAddress("127.0.0.1")!, IPAddress("10.0.0.1")!]) }
        let allowed = try ToolTargets.parse("# lab\n192.0.2.0/24\n2001:db8::/32\nintranet.example  # the wiki\n")
        #expect(allowed.networks.count == 2 && allowed.hosts == ["intranet.example"])
        #expect(try allowed.check(host: "192.0.2.5", resolved: [IPAddress("192.0.2.5")!]) == IPAddress("192.0.2.5"))
        #expect(try allowed.check(host: "intranet.example", resolved: [IPAddress("203.0.113.1")!]) == IPAddress("203.0.113.1"))
        #expect(throws: ToolTargets.Refusal.self) { try allowed.check(host: "198.51.100.1", resolved: [IPAddress("198.51.100.1")!]) }
        #expect(throws: ToolTargets.Refusal.self) { try ToolTargets.parse("192.0.2.0/24\nnot a host!\n") }
        do { _ = try ToolTargets.parse("192.0.2.0/24\nnot a host!\n") } catch { #expect(error.description.hasPrefix("line 2:")) }
        #expect(try ToolTargets.parse(allowed.text) == allowed)
    }
}
