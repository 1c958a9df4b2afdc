import SecurityModel
import Testing

@Suite("Address table")
struct AddressTableTests {
    @Test("longest prefix wins; IPv4 and IPv6; removal")
    func lookup() throws {
        var table = AddressTable<String>()
        table.insert(try #require(CIDRBlock("10.0.0.0/8")), "ten")
        table.insert(try #require(CIDRBlock("10.1.0.0/16")), "ten-one")
        table.insert(try #require(CIDRBlock("10.1.2.3")), "host")
        table.insert(try #require(CIDRBlock("2001:db8::/32")), "doc6")
        table.insert(try #require(CIDRBlock("2001:db8::1")), "doc6-host")
        table.insert(try #require(CIDRBlock("0.0.0.0/0")), "all4")
        #expect(table.count == 6)
        func find(_ text: String) -> String? { table.lookup(try! #require(AddressTable<String>.Key(parsing: text))) }
        #expect(find("10.1.2.3") == "host")
        #expect(find("10.1.2.4") == "ten-one")
        #expect(find("10.200.0.1") == "ten")
        #expect(find("192.0.2.1") == "all4")
        #expect(find("2001:db8::1") == "doc6-host")
        #expect(find("2001:db8:ffff::9") == "doc6")
        #expect(find("2001:db9::1") == nil, "an IPv4 /0 does not cover IPv6")
        #expect(find("::ffff:10.1.2.3") == "host", "IPv4-mapped IPv6 is the IPv4 address")
        #expect(table.remove(try #require(CIDRBlock("10.1.2.3"))) == "host")
        #expect(find("10.1.2.3") == "ten-one")
        #expect(table.count == 5)
        table.insert(try #require(CIDRBlock("10.1.0.0/16")), "replaced")
        #expect(table.count == 5 && find("10.1.9.9") == "replaced")
    }

    @Test("the fast IPv4 parser agrees with IPAddress and refuses what it refuses",
          arguments: ["1.2.3.4", "255.255.255.255", "0.0.0.0", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "", "1.2.3.4 ",
                       "::1", "::", "1::", "::ffff:1.2.3.4", "fe80::1%eth0", "[2001:db8::1]", "2001:db8::1", "2001:DB8:0:0:0:0:0:1",
                       "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", ":1::2", "1::2:", "12345::1", "g::1",
                       "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:::2", ":::", "1:2:3:4:5:6::7:8"])
    func parser(text: String) {
        let fast = AddressTable<Int>.Key(parsing: text)
        let slow = IPAddress(text).map { AddressTable<Int>.Key($0) }
        #expect(fast == slow, "\(text)")
    }

    @Test("a random table agrees with a linear scan over its networks")
    func agreesWithScan() throws {
        var generator = SeededGenerator(seed: 7)
        var table = AddressTable<Int>()
        var blocks: [(CIDRBlock, Int)] = []
        for index in 0..<500 {
            let v4 = Bool.random(using: &generator)
            let text = v4
                ? "\(UInt8.random(in: 0...255, using: &generator) & 0x0F).\(UInt8.random(in: 0...255, using: &generator)).\(UInt8.random(in: 0...255, using: &generator)).\(UInt8.random(in: 0...255, using: &generator))/\(Int.random(in: 8...32, using: &generator))"
                : "2001:db8:\(String(UInt16.random(in: 0...15, using: &generator), radix: 16))::\(String(UInt16.random(in: 0...0xFFFF, using: &generator), radix: 16))/\(Int.random(in: 32...128, using: &generator))"
            let block = try #require(CIDRBlock(text))
            table.insert(block, index)
            blocks.removeAll { $0.0.prefixLength == block.prefixLength && AddressTable<Int>.Key($0.0.network) == AddressTable<Int>.Key(block.network) || $0.0.description == block.description }
            blocks.append((block, index))
        }
        for _ in 0..<2000 {
            let probe = Bool.random(using: &generator)
                ? "\(UInt8.random(in: 0...15, using: &generator)).\(UInt8.random(in: 0...255, using: &generator)).\(UInt8.random(in: 0...255, using: &generator)).\(UInt8.random(in: 0...255, using: &generator))"
                : "2001:db8:\(String(UInt16.random(in: 0...15, using: &generator), radix: 16))::\(String(UInt16.random(in: 0...0xFFFF, using: &generator), radix: 16))"
            let address = try #require(IPAddress(probe))
            let expected = blocks.filter { $0.0.contains(address) }.max { $0.0.prefixLength < $1.0.prefixLength }?.1
            let bestLength = blocks.filter { $0.0.contains(address) }.map(\.0.prefixLength).max()
            let found = table.lookup(address)
            if let bestLength {
                // Same-length duplicates: the last inserted wins in both.
                let candidates = blocks.filter { $0.0.contains(address) && $0.0.prefixLength == bestLength }.map(\.1)
                #expect(found.map { candidates.contains($0) } == true, "\(probe): \(String(describing: found)) vs \(candidates)")
            } else {
                #expect(found == nil && expected == nil, "\(probe)")
            }
        }
    }
}
