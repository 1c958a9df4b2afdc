import EventPipeline
import Foundation
import SecurityModel
import Testing

@Suite("External sorter")
struct ExternalSorterTests {
    static func records(_ count: Int, seed: UInt64) -> [(Int64, [UInt8])] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            // Few distinct keys, so equal keys (whose arrival order must be kept) are common.
            let key = Int64.random(in: -50...500, using: &generator)
            let length = Int.random(in: 0...300, using: &generator)
            var bytes = Array("\(index):".utf8)
            bytes += (0..<length).map { _ in UInt8.random(in: 32...126, using: &generator) }
            return (key, bytes)
        }
    }

    static func sortAll(_ records: [(Int64, [UInt8])], budget: Int, directory: String = NSTemporaryDirectory()) throws -> (out: [(Int64, [UInt8])], stats: ExternalSorter.Statistics) {
        let sorter = try ExternalSorter(directory: directory, budgetBytes: budget)
        for (key, bytes) in records { try bytes.withUnsafeBufferPointer { try sorter.append(key: key, bytes: $0) } }
        var out: [(Int64, [UInt8])] = []
        try sorter.forEachSorted { key, bytes in out.append((key, Array(bytes))) }
        return (out, sorter.statistics)
    }

    @Test("spilled runs merge into the stable sort of the input, at small and large budgets", arguments: [1, 2, 3, 4, 5])
    func stableSort(seed: UInt64) throws {
        let input = Self.records(20_000, seed: seed)
        let expected = input.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        for budget in [64 * 1024, 300 * 1024, 64 << 20] {
            let (out, stats) = try Self.sortAll(input, budget: budget)
            #expect(out.count == expected.count)
            #expect(out.map(\.0) == expected.map(\.0), "keys, budget \(budget)")
            #expect(out.map(\.1) == expected.map(\.1), "bytes and arrival order of equal keys, budget \(budget)")
            #expect(stats.records == 20_000)
            if budget == 64 * 1024 { #expect(stats.runs > 10, "spilled: \(stats.runs) runs") }
            if budget == 64 << 20 { #expect(stats.runs == 0) }
        }
    }

    @Test("keys across the whole 64-bit range (undecodable lines' Int64.min, far-apart times) sort stably too")
    func wideKeys() throws {
        var generator = SeededGenerator(seed: 77)
        let choices: [Int64] = [.min, .max, 0, -1, 1, 1 << 40, -(1 << 40), 1_795_000_000_000_000]
        let input: [(Int64, [UInt8])] = (0..<6_000).map { index in
            let key = index % 3 == 0 ? Int64.random(in: .min ... .max, using: &generator) : choices[Int.random(in: 0..<choices.count, using: &generator)]
            return (key, Array("\(index)".utf8))
        }
        let expected = input.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        for budget in [64 * 1024, 64 << 20] {
            let (out, _) = try Self.sortAll(input, budget: budget)
            #expect(out.map(\.0) == expected.map(\.0), "keys, budget \(budget)")
            #expect(out.map(\.1) == expected.map(\.1), "arrival order of equal keys, budget \(budget)")
        }
    }

    @Test("memory stays near the budget: what is held never passes it")
    func bounded() throws {
        let sorter = try ExternalSorter(directory: NSTemporaryDirectory(), budgetBytes: 128 * 1024)
        var most = 0
        for (key, bytes) in Self.records(5_000, seed: 9) {
            try bytes.withUnsafeBufferPointer { try sorter.append(key: key, bytes: $0) }
            most = max(most, sorter.held.bytes)
        }
        #expect(most <= 128 * 1024)
        var count = 0
        try sorter.forEachSorted { _, _ in count += 1 }
        #expect(count == 5_000)
    }

    @Test("a spill directory that cannot be used, or a spill limit reached, is a clear error")
    func failures() throws {
        #expect(throws: ExternalSorter.Failure.self) { _ = try ExternalSorter(directory: "/nonexistent-secmon-dir", budgetBytes: 1 << 20) }
        do {
            _ = try ExternalSorter(directory: "/nonexistent-secmon-dir", budgetBytes: 1 << 20)
        } catch let failure as ExternalSorter.Failure {
            #expect(failure.description.contains("/nonexistent-secmon-dir") && failure.description.contains("--spill-dir"))
        }
        let limited = try ExternalSorter(directory: NSTemporaryDirectory(), budgetBytes: 64 * 1024, maxSpillBytes: 100_000)
        var failure: ExternalSorter.Failure?
        do {
            for (key, bytes) in Self.records(5_000, seed: 3) { try bytes.withUnsafeBufferPointer { try limited.append(key: key, bytes: $0) } }
        } catch let error as ExternalSorter.Failure {
            failure = error
        }
        #expect(failure?.description.contains("100000 bytes allowed") == true)
    }

    @Test("the spill files go with the sorter")
    func cleanup() throws {
        let base = NSTemporaryDirectory() + "secmon-sorter-cleanup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        do {
            let (_, stats) = try Self.sortAll(Self.records(5_000, seed: 4), budget: 64 * 1024, directory: base)
            #expect(stats.runs > 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).isEmpty)
    }
}
