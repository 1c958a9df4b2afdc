import SecurityModel
import Testing

@Suite("Addresses, networks and the client address")
struct NetworkTests {
    @Test("parses IPv4 and IPv6", arguments: [
        ("192.0.2.1", "192.0.2.1"), ("::1", "::1"), ("2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"), ("[fe80::1%eth0]", "fe80::1"),
    ])
    func parses(text: String, shown: String) throws {
        #expect(try #require(IPAddress(text)).description == shown)
    }

    @Test("rejects malformed addresses", arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1::2::3", "12345::", "host.example", "1.2.3.4/8"])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("CIDR containment", arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.1", false), ("192.168.1.7", "192.168.1.7", true),
        ("192.168.1.7", "192.168.1.8", false), ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("0.0.0.0/0", "8.8.8.8", true), ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
        ("::/0", "::1", true), ("10.0.0.0/8", "::1", false),
    ])
    func contains(block: String, address: String, expected: Bool) throws {
        let cidr = try #require(CIDRBlock(block))
        #expect(cidr.contains(try #require(IPAddress(address))) == expected)
    }

    @Test("rejects bad prefixes", arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0.0/"])
    func badPrefix(text: String) {
        #expect(CIDRBlock(text) == nil)
    }

    @Test("X-Forwarded-For only counts from trusted proxies, right-most untrusted hop wins")
    func forwarding() {
        let resolver = ClientAddressResolver(trustedProxies: [CIDRBlock("10.0.0.0/8")!])
        #expect(resolver.clientAddress(peer: "203.0.113.5", forwardedFor: ["1.1.1.1"]) == "203.0.113.5")
        #expect(resolver.clientAddress(peer: "10.0.0.2", forwardedFor: []) == "10.0.0.2")
        #expect(resolver.clientAddress(peer: "10.0.0.2", forwardedFor: ["198.51.100.1"]) == "198.51.100.1")
        #expect(resolver.clientAddress(peer: "10.0.0.2", forwardedFor: ["6.6.6.6, 198.51.100.1, 10.0.0.9"]) == "198.51.100.1")
        #expect(resolver.clientAddress(peer: "10.0.0.2", forwardedFor: ["6.6.6.6", "198.51.100.1"]) == "198.51.100.1")
        #expect(resolver.clientAddress(peer: "10.0.0.2", forwardedFor: ["garbage"]) == "10.0.0.2")
        #expect(resolver.clientAddress(peer: nil, forwardedFor: ["1.1.1.1"]) == "unknown")
    }

    @Test("roles include the ones below them")
    func roles() {
        #expect(Role.admin.includes(.analyst) && Role.admin.includes(.viewer))
        #expect(Role.analyst.includes(.viewer) && !Role.analyst.includes(.admin))
        #expect(!Role.viewer.includes(.analyst))
        #expect(Severity.critical > Severity.high && Severity.informational < Severity.low)
    }
}

@Suite("URL redaction")
struct URLRedactionTests {
    @Test("the password never appears, well-formed or not", arguments: [
        ("postgres://secmon:s3cret@db:5432/secmon", "postgres://secmon:***@db:5432/secmon"),
        ("postgres://secmon:s3cret@db:5432/secmon?sslmode=require", "postgres://secmon:***@db:5432/secmon?sslmode=require"),
        ("postgres://secmon:s3c ret%%@@db/x", "postgres://secmon:***@db/x"),
        ("postgres://secmon:s3cret@[::1:5432/x", "postgres://secmon:***@[::1:5432/x"),
        ("postgres://db:5432/secmon", "postgres://db:5432/secmon"),
        ("mysql:user:s3cret@host", "mysql:***"),
    ])
    func redacts(_ url: String, _ expected: String) {
        let shown = URLRedaction.redacted(url)
        #expect(shown == expected)
        #expect(!shown.contains("s3c"))
    }

    @Test("a scheme is shown alone")
    func scheme() {
        #expect(URLRedaction.scheme("mysql://root:s3cret@db/x") == "mysql")
        #expect(URLRedaction.scheme("://x") == "(none)")
    }
}

@Suite("IPv6 text")
struct IPv6TextTests {
    @Test("IPv6 is written as RFC 5952 says, and reads back the same", arguments: [
        ("2001:db8:9:0:0:0:0:0", "2001:db8:9::"), ("0:0:0:0:0:0:0:1", "::1"), ("0:0:0:0:0:0:0:0", "::"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"), ("fe80:0:0:0:0:0:0:1", "fe80::1"),
        ("2001:DB8:0:0:0:0:0:AB", "2001:db8::ab"), ("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"),
    ])
    func compressed(input: String, written: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == written)
        #expect(IPAddress(written) == address)
    }

    @Test("a network's text compresses its address")
    func network() throws {
        #expect(try #require(CIDRBlock("2001:db8:9:0:0:0:0:0/48")).description == "2001:db8:9::/48")
        #expect(try #require(CIDRBlock("10.0.0.0/8")).description == "10.0.0.0/8")
    }
}
