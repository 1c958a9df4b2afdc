import App
import ArgumentParser
import Foundation
import SecurityModel

/// `secmon bench-blocklist`: the cost of the per-request block check (see bench/blocklist.sh).
/// Hidden: a tool for developers.
struct BenchBlockListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-blocklist",
        abstract: "Time the block list's lookup with many entries.",
        shouldDisplay: false
    )

    @ArgumentParser.Option(name: .long, help: "Entries in the table (addresses and networks, IPv4 and IPv6).")
    var entries = 10_000

    @ArgumentParser.Option(name: .long, help: "Lookups per measurement.")
    var lookups = 2_000_000

    @ArgumentParser.Option(name: .long, help: "Measurements (the best is printed).")
    var runs = 5

    func run() throws {
        var generator = SeededGenerator(seed: 42)
        var table = AddressTable<ResponseList.Entry>()
        var blocked: [String] = []
        func v4() -> String { "\(Int.random(in: 1...223, using: &generator)).\(Int.random(in: 0...255, using: &generator)).\(Int.random(in: 0...255, using: &generator)).\(Int.random(in: 0...255, using: &generator))" }
        func v6() -> String { "2001:db8:\(String(Int.random(in: 0...0xFFFF, using: &generator), radix: 16))::\(String(Int.random(in: 1...0xFFFF, using: &generator), radix: 16))" }
        var limits = AddressTable<ResponseList.Entry>()
        while table.count + limits.count < entries {
            let kind = (table.count + limits.count) % 10
            // Half IPv4 addresses, a fifth IPv4 networks (/16 to /30), a fifth IPv6 addresses, a tenth IPv6 networks (/48 to /64).
            let text = kind < 5 ? v4() : kind < 7 ? v4() + "/\(Int.random(in: 16...30, using: &generator))"
                : kind < 9 ? v6() : v6() + "/\(Int.random(in: 48...64, using: &generator))"
            guard let block = CIDRBlock(text) else { continue }
            // Every fifth entry is a rate limit (600 a minute), the rest blocks.
            if (table.count + limits.count) % 5 == 4 {
                limits.insert(block, ResponseList.Entry(id: "bench", target: block.description, expires: nil, rate: 600))
                if kind < 5 || (kind >= 7 && kind < 9) { blocked.append(text) }
                continue
            }
            table.insert(block, ResponseList.Entry(id: "bench", target: block.description, expires: nil))
            if kind < 5 || (kind >= 7 && kind < 9) { blocked.append(text) }
        }
        // Probes: half blocked addresses, half random ones (mostly not blocked); IPv4 and IPv6.
        var probes: [String] = []
        for index in 0..<4096 { probes.append(index % 2 == 0 ? blocked[index % blocked.count] : (index % 4 == 1 ? v4() : v6())) }
        let list = ResponseList.fixed(table, limits: limits)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        var keys = probes.compactMap { AddressTable<ResponseList.Entry>.Key(parsing: $0) }
        keys = Array(keys.prefix(4096))

        func measure(_ body: (Int) -> Int) -> Double {
            var best = Double.infinity
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                let hits = body(lookups)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
                precondition(hits >= 0)
                best = min(best, elapsed / Double(lookups))
            }
            return best
        }
        let keyed = measure { count in
            var hits = 0
            for index in 0..<count where table.lookup(keys[index & 4095]) != nil { hits += 1 }
            return hits
        }
        let full = measure { count in
            var hits = 0
            for index in 0..<count where list.check(probes[index & 4095], now: now) != nil { hits += 1 }
            return hits
        }
        let hitRate = Double(probes.filter { list.check($0, now: now) != nil }.count) / Double(probes.count)
        print("entries \(table.count) blocks + \(limits.count) rate limits (IPv4 and IPv6, addresses and networks), probes \(probes.count), \(Int(hitRate * 100))% refused")
        print(String(format: "lookup of a parsed address      %7.1f ns", keyed))
        print(String(format: "check of a request's address    %7.1f ns  (parse, lock, both lookups, expiry, bucket)", full))
    }
}
