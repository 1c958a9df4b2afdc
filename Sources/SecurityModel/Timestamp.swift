/// A point in time with microsecond precision, counted from the Unix epoch in UTC.
///
/// The activity log writes times as `2026-02-24T05:29:39.448003` (ISO 8601, UTC, no zone,
/// six fractional digits), which is what the original application wrote. Formatting and
/// parsing are done here by arithmetic rather than with `DateFormatter`, which is slow,
/// locale-dependent and not `Sendable`.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    /// Creates a timestamp from microseconds since the Unix epoch.
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// The times decoders accept, in microseconds: from 1970-01-01 to the end of 9999.
    public static let supportedRange: ClosedRange<Int64> = 0...253_402_300_799_999_999

    /// Creates a timestamp from seconds since the Unix epoch, rounded to the microsecond.
    public init(secondsSince1970 seconds: Double) {
        self.microseconds = Int64((seconds * 1_000_000).rounded())
    }

    /// Seconds since the Unix epoch.
    public var secondsSince1970: Double { Double(microseconds) / 1_000_000 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// The time `seconds` later (or earlier, when negative).
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(microseconds: microseconds + Int64((seconds * 1_000_000).rounded()))
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffff`, UTC without a zone suffix, as in the original log.
    public var iso8601: String {
        var us = microseconds % 1_000_000
        var secs = microseconds / 1_000_000
        if us < 0 { us += 1_000_000; secs -= 1 }
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let (y, m, d) = Timestamp.civil(fromDays: days)
        var out = [UInt8]()
        out.reserveCapacity(26)
        func put(_ value: Int64, width: Int) {
            var digits = [UInt8](repeating: 0x30, count: width)
            var v = value
            var i = width - 1
            while i >= 0 { digits[i] = UInt8(0x30 + v % 10); v /= 10; i -= 1 }
            out.append(contentsOf: digits)
        }
        put(y, width: 4); out.append(0x2D); put(m, width: 2); out.append(0x2D); put(d, width: 2)
        out.append(0x54)
        put(rem / 3600, width: 2); out.append(0x3A); put(rem / 60 % 60, width: 2); out.append(0x3A); put(rem % 60, width: 2)
        out.append(0x2E); put(us, width: 6)
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { iso8601 }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|±HH:MM]` (a space may stand for `T`).
    /// A time without a zone is taken as UTC, as the original log's times are.
    /// Returns `nil` for anything else.
    public init?<S: StringProtocol>(iso8601 text: S) {
        var string = String(text)
        guard let parsed = string.withUTF8({ Timestamp(iso8601Bytes: $0) }) else { return nil }
        self = parsed
    }

    /// The same parser over UTF-8 bytes, for decoders that read lines without making strings.
    public init?(iso8601Bytes bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 19, let days = Self.isoDays(bytes), let time = Self.isoTimeOfDay(bytes, days: days) else { return nil }
        self.microseconds = time
    }

    /// The same parser, remembering the date of the last time it read in `cache`: the times of a
    /// log come day after day, so most skip reading their date.
    @inline(__always)
    public init?(iso8601Bytes bytes: UnsafeBufferPointer<UInt8>, cache: inout ISODateCache) {
        guard bytes.count >= 19, let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let head = raw.loadUnaligned(as: UInt64.self), tail = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        let days: Int64
        if cache.isSet, head == cache.head, tail == cache.tail {
            days = cache.days
        } else {
            guard let parsed = Self.isoDays(bytes) else { return nil }
            days = parsed
            cache = ISODateCache(head: head, tail: tail, days: parsed)
        }
        guard let time = Self.isoTimeOfDay(bytes, days: days) else { return nil }
        self.microseconds = time
    }

    /// Days since 1970-01-01 of the `YYYY-MM-DD` that starts `bytes` (at least 19 bytes), or nil.
    @inline(__always)
    static func isoDays(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        // Fixed positions: every digit is checked with one unsigned compare, no optionals.
        @inline(__always) func digit(_ index: Int) -> Int64 { Int64(bytes[index] &- 0x30) }
        @inline(__always) func isDigit(_ index: Int) -> Bool { bytes[index] &- 0x30 <= 9 }
        guard isDigit(0), isDigit(1), isDigit(2), isDigit(3), isDigit(5), isDigit(6), isDigit(8), isDigit(9),
              bytes[4] == 0x2D, bytes[7] == 0x2D else { return nil }
        let y = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
        let mo = digit(5) * 10 + digit(6), d = digit(8) * 10 + digit(9)
        guard (1...12).contains(mo), (1...31).contains(d) else { return nil }
        return Timestamp.days(fromCivil: y, mo, d)
    }

    /// The microseconds of the time that follows the date in `bytes` (`THH:MM:SS`, an optional
    /// fraction, an optional `Z` or offset) on day `days`, or nil.
    @inline(__always)
    static func isoTimeOfDay(_ bytes: UnsafeBufferPointer<UInt8>, days: Int64) -> Int64? {
        @inline(__always) func digit(_ index: Int) -> Int64 { Int64(bytes[index] &- 0x30) }
        @inline(__always) func isDigit(_ index: Int) -> Bool { bytes[index] &- 0x30 <= 9 }
        guard isDigit(11), isDigit(12), isDigit(14), isDigit(15), isDigit(17), isDigit(18),
              bytes[10] == 0x54 || bytes[10] == 0x20 || bytes[10] == 0x74,
              bytes[13] == 0x3A, bytes[16] == 0x3A else { return nil }
        let h = digit(11) * 10 + digit(12), mi = digit(14) * 10 + digit(15), s = digit(17) * 10 + digit(18)
        guard h < 24, mi < 60, s < 61 else { return nil }
        func num(_ from: Int, _ count: Int) -> Int64? {
            var v: Int64 = 0
            for i in from..<(from + count) {
                let c = bytes[i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            return v
        }
        var i = 19
        var fraction: Int64 = 0
        if i < bytes.count && bytes[i] == 0x2E {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if digits < 6 { fraction = fraction * 10 + Int64(bytes[i] - 0x30) }
                digits += 1; i += 1
            }
            guard digits > 0, digits <= 9 else { return nil }
            var scale = digits
            while scale < 6 { fraction *= 10; scale += 1 }
        }
        var offsetSeconds: Int64 = 0
        if i < bytes.count {
            if bytes[i] == 0x5A || bytes[i] == 0x7A {
                i += 1
            } else if bytes[i] == 0x2B || bytes[i] == 0x2D, i + 6 == bytes.count || i + 5 == bytes.count {
                let sign: Int64 = bytes[i] == 0x2D ? -1 : 1
                guard let oh = num(i + 1, 2) else { return nil }
                let minuteStart = bytes[i + 3] == 0x3A ? i + 4 : i + 3
                guard minuteStart + 2 == bytes.count, let om = num(minuteStart, 2) else { return nil }
                offsetSeconds = sign * (oh * 3600 + om * 60)
                i = bytes.count
            } else {
                return nil
            }
        }
        guard i == bytes.count else { return nil }
        let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offsetSeconds
        return seconds * 1_000_000 + fraction
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The UTC calendar year of `time`.
    public static func civilYear(of time: Timestamp) -> Int64 {
        let seconds = time.microseconds >= 0 ? time.microseconds / 1_000_000 : (time.microseconds - 999_999) / 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return civil(fromDays: days).0
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}

/// The date of the last ISO-8601 time read with ``Timestamp/init(iso8601Bytes:cache:)`` (its first
/// ten bytes and its day number), so that the next time of the same day skips reading its date.
public struct ISODateCache: Sendable {
    var head: UInt64 = 0
    var tail: UInt16 = 0
    var days: Int64 = 0
    var isSet = false

    public init() {}

    init(head: UInt64, tail: UInt16, days: Int64) {
        self.head = head
        self.tail = tail
        self.days = days
        isSet = true
    }
}
