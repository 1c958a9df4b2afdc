/// Punycode (RFC 3492), the ASCII form of internationalised domain labels (`xn--80ak6aa92e` is
/// `аррӏе`, in Cyrillic letters that look like "apple"). Pure; every arithmetic step is checked,
/// so a hostile label is refused, never a trap.
public enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// The Unicode label for the Punycode `label` (without `xn--`), or nil when it is not valid Punycode.
    public static func decode(_ label: String) -> String? {
        let input = Array(label.utf8)
        guard input.count <= 63 else { return nil }
        var output: [UInt32] = []
        var position = 0
        if let delimiter = input.lastIndex(of: 0x2d) {
            for byte in input[..<delimiter] {
                guard byte < 0x80 else { return nil }
                output.append(UInt32(byte))
            }
            position = delimiter + 1
        }
        var n = initialN, i = 0, bias = initialBias
        while position < input.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard position < input.count, let digit = digit(input[position]) else { return nil }
                position += 1
                guard let step = digit.multipliedChecked(by: w), let sum = i.addingChecked(step) else { return nil }
                i = sum
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if digit < t { break }
                guard let next = w.multipliedChecked(by: base - t) else { return nil }
                w = next
                k += base
            }
            let count = output.count + 1
            bias = adapt(delta: i - oldI, count: count, first: oldI == 0)
            guard let grown = n.addingChecked(i / count) else { return nil }
            n = grown
            i %= count
            guard n <= 0x10FFFF, !(0xD800...0xDFFF).contains(n), output.count < 63 else { return nil }
            output.insert(UInt32(n), at: i)
            i += 1
        }
        var text = ""
        for scalar in output {
            guard let unicode = Unicode.Scalar(scalar) else { return nil }
            text.unicodeScalars.append(unicode)
        }
        return text
    }

    /// The Punycode form of `label` (without `xn--`), or nil when it is too long to be a label.
    public static func encode(_ label: String) -> String? {
        let input = label.unicodeScalars.map { Int($0.value) }
        guard input.count <= 63 else { return nil }
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basic = output.count
        var handled = basic
        if basic > 0 { output.append(0x2d) }
        var n = initialN, delta = 0, bias = initialBias
        while handled < input.count {
            guard let m = input.filter({ $0 >= n }).min() else { break }
            guard let step = (m - n).multipliedChecked(by: handled + 1), let sum = delta.addingChecked(step) else { return nil }
            delta = sum
            n = m
            for c in input {
                if c < n { guard let next = delta.addingChecked(1) else { return nil }; delta = next }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(character(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(character(q))
                    bias = adapt(delta: delta, count: handled + 1, first: handled == basic)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        guard output.count <= 59 else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    private static func adapt(delta: Int, count: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte) - 22
        case 0x41...0x5a: Int(byte) - 0x41
        case 0x61...0x7a: Int(byte) - 0x61
        default: nil
        }
    }

    private static func character(_ digit: Int) -> UInt8 {
        digit < 26 ? UInt8(0x61 + digit) : UInt8(0x30 + digit - 26)
    }
}

extension Int {
    /// `self * other`, or nil on overflow.
    func multipliedChecked(by other: Int) -> Int? {
        let (value, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : value
    }

    /// `self + other`, or nil on overflow.
    func addingChecked(_ other: Int) -> Int? {
        let (value, overflow) = addingReportingOverflow(other)
        return overflow ? nil : value
    }
}
