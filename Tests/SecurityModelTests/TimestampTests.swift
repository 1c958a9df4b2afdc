import SecurityModel
import Testing

@Suite("Timestamp")
struct TimestampTests {
    @Test("formats like the original log", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000"),
        (Int64(1_771_911_003_451_967), "2026-02-24T05:30:03.451967"),
        (Int64(951_782_400_000_001), "2000-02-29T00:00:00.000001"),
        (Int64(-1), "1969-12-31T23:59:59.999999"),
    ])
    func formats(micros: Int64, text: String) {
        #expect(Timestamp(microseconds: micros).iso8601 == text)
        #expect(Timestamp(iso8601: text)?.microseconds == micros)
    }

    @Test("parses zones and fraction lengths", arguments: [
        ("2026-02-24T05:30:03Z", "2026-02-24T05:30:03.000000"),
        ("2026-02-24T05:30:03.5", "2026-02-24T05:30:03.500000"),
        ("2026-02-24 05:30:03.123456789", "2026-02-24T05:30:03.123456"),
        ("2026-02-24T07:30:03.000000+02:00", "2026-02-24T05:30:03.000000"),
        ("2026-02-24T05:30:03.000000-0130", "2026-02-24T07:00:03.000000"),
    ])
    func parses(text: String, expected: String) {
        #expect(Timestamp(iso8601: text)?.iso8601 == expected)
    }

    @Test("rejects malformed times", arguments: [
        "", "2026-02-24", "2026-13-01T00:00:00", "2026-02-24T25:00:00", "2026-02-24T05:30:03.", "yesterday",
        "2026-02-24T05:30:03Zjunk", "2026-02-24T05:30:03+2",
    ])
    func rejects(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test("round-trips every day of four centuries")
    func roundTrip() {
        var micros: Int64 = -2_208_988_800_000_000  // 1900-01-01
        for _ in 0..<(400 * 366) {
            let t = Timestamp(microseconds: micros)
            #expect(Timestamp(iso8601: t.iso8601) == t)
            micros += 86_400_000_000 + 1_234_567
        }
    }

    @Test("the date cache changes no result: a run of times read with one cache parses as each alone", arguments: [1, 2, 3])
    func dateCache(seed: UInt64) {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let dates = ["2026-02-24", "2026-02-24", "2026-02-25", "2024-02-29", "2026-13-01", "2026-02-3x", "1969-12-31"]
        let times = ["T05:30:03", "T05:30:03.5", " 23:59:59.999999Z", "T24:00:00", "T05:30:03+02:00", "T05:30", "T05:30:03junk", "t00:00:00-0130"]
        var cache = ISODateCache()
        for _ in 0..<3000 {
            let text = dates[next(dates.count)] + times[next(times.count)]
            let bytes = Array(text.utf8)
            let alone = bytes.withUnsafeBufferPointer { Timestamp(iso8601Bytes: $0) }
            let cached = bytes.withUnsafeBufferPointer { Timestamp(iso8601Bytes: $0, cache: &cache) }
            #expect(cached == alone, "\(text)")
        }
    }
}
