import EventPipeline
import Foundation
import Testing

/// The hash chain through SecMon's logs: intact when untouched; a changed, removed, reordered or
/// inserted line reported at its line; runs that link up; a cut end and a replaced file found by
/// the anchors; the append-only writer seals in write order and goes on from the file's last line.
@Suite("Log chain")
struct LogChainTests {
    static func lines(_ count: Int, chain: inout LogChain) -> [[UInt8]] {
        (1...count).map { chain.seal(Array(#"{"timestamp": "2026-12-02T10:00:0\#($0)", "action": "LOGIN_FAILURE", "n": \#($0)}"#.utf8) + [0x0A]) }
    }

    static func verify(_ lines: [[UInt8]], anchors: [(id: String, sequence: UInt64, hash: String)] = []) -> LogChain.Verifier.Report {
        var verifier = LogChain.Verifier()
        for line in lines { verifier.feed(Array(line.dropLast())) }
        verifier.check(anchors: anchors)
        return verifier.report
    }

    @Test("untouched lines are intact; each kind of tampering is reported at its line")
    func tampering() throws {
        var chain = LogChain(id: "00000000000000aa")
        let lines = Self.lines(6, chain: &chain)
        let text = String(decoding: lines[0], as: UTF8.self)
        #expect(text.hasPrefix(#"{"timestamp": "2026-12-02T10:00:01", "action": "LOGIN_FAILURE", "n": 1, "chain": "00000000000000aa:1:"#) && text.hasSuffix("\"}\n"))
        #expect(try JSONSerialization.jsonObject(with: Data(lines[0])) is [String: Any], "a sealed line is still one JSON object")
        let intact = Self.verify(lines)
        #expect(intact.intact && intact.chained == 6 && intact.lines == 6 && intact.chains["00000000000000aa"]?.sequence == 6)

        var changed = lines
        changed[2] = Array(String(decoding: changed[2], as: UTF8.self).replacingOccurrences(of: "LOGIN_FAILURE", with: "LOGIN_SUCCESS").utf8)
        let afterChange = Self.verify(changed)
        #expect(afterChange.problemCount == 1 && afterChange.problems[0].hasPrefix("line 3: the line"), "\(afterChange.problems)")

        var removed = lines
        removed.remove(at: 3)
        #expect(Self.verify(removed).problems.first?.hasPrefix("line 4: chain 00000000000000aa goes from its line 3 to 5: lines were removed") == true)

        var swapped = lines
        swapped.swapAt(1, 2)
        #expect(!Self.verify(swapped).intact)

        var inserted = lines
        inserted.insert(Array(#"{"action": "LOGIN_SUCCESS", "username": "admin"}"#.utf8) + [0x0A], at: 4)
        let afterInsert = Self.verify(inserted)
        #expect(afterInsert.problems == ["line 5: has no chain field, amid chained lines: it was inserted or its chain field removed"])

        // Lines written before chaining was on are counted, not blamed.
        let legacy = [Array(#"{"action": "OLD"}"#.utf8) + [0x0A]] + lines
        #expect(Self.verify(legacy).intact && Self.verify(legacy).unchained == 1)

        // The first lines cut: the chain starts past its line 1.
        #expect(Self.verify(Array(lines.dropFirst(2))).problems.first?.contains("starts at its line 3") == true)
    }

    @Test("runs link up; lines between runs removed are found; a rotation starts afresh; anchors find a cut end and a missing chain")
    func runsAndAnchors() throws {
        var first = LogChain(id: "1111111111111111")
        let one = Self.lines(3, chain: &first)
        let last = try #require(LogChain.hash(ofLine: one[2].dropLast()))
        var second = LogChain(id: "2222222222222222", previous: last.hash)
        let two = Self.lines(3, chain: &second)
        #expect(Self.verify(one + two).intact)
        #expect(Self.verify(Array(one.prefix(2)) + two).problems.contains { $0.contains("first line of chain 2222222222222222") })
        var fresh = LogChain(id: "3333333333333333")
        let three = Self.lines(2, chain: &fresh)
        let rotated = Self.verify(one + three)
        #expect(rotated.intact && rotated.restarts.count == 1)

        let anchor = (id: "2222222222222222", sequence: UInt64(3), hash: "")
        #expect(Self.verify(one + two, anchors: [anchor]).intact)
        #expect(Self.verify(one + Array(two.prefix(1)), anchors: [anchor]).problems.last?.contains("the end of the log was cut off") == true)
        #expect(Self.verify(one, anchors: [anchor]).problems.last?.contains("is not in the file") == true)
    }

    @Test("the append-only log seals in write order, goes on from the file's last line, and verifies from disk")
    func appendOnlyFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-chain-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AppendOnlyLogFile(path: path, chained: true)
        for n in 1...50 { try await log.append(Array(#"{"n": \#(n)}"#.utf8) + [0x0A]) }
        // Several lines handed over at once (as the host log's batches are) are sealed one by one.
        try await log.append(Array(#"{"batch": 1}"#.utf8) + [0x0A] + Array(#"{"batch": 2}"#.utf8) + [0x0A])
        let head = try #require(log.chainHead)
        #expect(head.sequence == 52)
        await log.close()
        let reopened = try AppendOnlyLogFile(path: path, chained: true)
        for n in 51...60 { try await reopened.append(Array(#"{"n": \#(n)}"#.utf8) + [0x0A]) }
        let second = try #require(reopened.chainHead)
        await reopened.close()
        #expect(second.id != head.id && second.sequence == 10)
        let report = try LogVerification.verify(path: path, anchors: [head, second])
        #expect(report.intact && report.chained == 62 && report.chains.count == 2, "\(report.problems)")
    }
}
