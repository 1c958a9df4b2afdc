/// Look-alike domains: a Unicode "skeleton" that folds letters which look alike (Cyrillic `а`
/// and Latin `a`, `0` and `o`, `rn` and `m`) as Unicode TS #39's confusable detection does, and
/// typo distance, compared with the domains an organisation watches (its own, and the brands
/// phishing imitates most). Pure.
public enum LookAlike {
    /// Domains phishing imitates most often; administrators add their own (Tools › settings).
    public static let bundledWatched = [
        "paypal.com", "apple.com", "icloud.com", "google.com", "gmail.com", "microsoft.com", "office.com", "live.com",
        "outlook.com", "amazon.com", "facebook.com", "instagram.com", "whatsapp.com", "netflix.com", "github.com",
        "linkedin.com", "dropbox.com", "docusign.com", "adobe.com", "chase.com", "wellsfargo.com", "bankofamerica.com",
        "dhl.com", "fedex.com", "ups.com", "usps.com", "coinbase.com", "binance.com", "steamcommunity.com", "okta.com",
    ]

    /// Scalars that look like a Latin letter or digit, folded to it (a subset of Unicode's
    /// confusables.txt: the Cyrillic, Greek, Armenian and full-width forms seen in phishing).
    static let folds: [UInt32: String] = {
        var map: [UInt32: String] = [:]
        let pairs: [(String, String)] = [
            ("аɑα", "a"), ("Ьь", "b"), ("сϲⅽ", "c"), ("ԁⅾ", "d"), ("еёҽ", "e"), ("ғ", "f"), ("ɡց", "g"), ("һհ", "h"),
            ("іıɩιⅰӏ", "i"), ("јϳ", "j"), ("κк", "k"), ("ⅼ", "l"), ("ⅿ", "m"), ("ոп", "n"), ("оοօ٥۵", "o"), ("рρ", "p"),
            ("ԛ", "q"), ("г", "r"), ("ѕ", "s"), ("τт", "t"), ("υս", "u"), ("νѵⅴ", "v"), ("ԝѡ", "w"), ("хχⅹ", "x"),
            ("уү", "y"), ("ᴢ", "z"),
        ]
        for (letters, latin) in pairs { for scalar in letters.unicodeScalars { map[scalar.value] = latin } }
        // Full-width ASCII.
        for value in UInt32(0xFF01)...0xFF5E {
            if let ascii = Unicode.Scalar(value - 0xFEE0) { map[value] = String(Character(ascii)).lowercased() }
        }
        return map
    }()

    /// The skeleton of a host name: confusable letters folded to Latin, lower case, then the
    /// digit and pair tricks (`0`→`o`, `1`→`l`, `rn`→`m`, `vv`→`w`).
    public static func skeleton(_ host: String) -> String {
        var out = ""
        for scalar in host.unicodeScalars {
            if let folded = folds[scalar.value] { out += folded } else { out += String(Character(scalar)).lowercased() }
        }
        var chars = Array(out)
        for index in chars.indices {
            if chars[index] == "0" { chars[index] = "o" }
            if chars[index] == "1" { chars[index] = "l" }
        }
        return String(chars).replacingOccurrences(of: "rn", with: "m").replacingOccurrences(of: "vv", with: "w")
    }

    /// The watched domain `host` imitates, with how: nil when it is one of them (or under one), or resembles none.
    public static func imitation(of host: String, registrable: String, watched: [String]) -> (domain: String, how: String)? {
        let host = host.lowercased()
        for domain in watched where host == domain || host.hasSuffix("." + domain) { return nil }
        let hostSkeleton = skeleton(registrable)
        for domain in watched {
            let target = skeleton(domain)
            if hostSkeleton == target { return (domain, registrable == domain ? "the same letters" : "letters that look alike") }
        }
        let label = registrable.split(separator: ".").first.map(String.init) ?? registrable
        for domain in watched {
            let watchedLabel = domain.split(separator: ".").first.map(String.init) ?? domain
            guard watchedLabel.count >= 5 else { continue }
            if distance(skeleton(label), skeleton(watchedLabel), limit: 1) <= 1 {
                return (domain, "one letter away (\(label) for \(watchedLabel))")
            }
            // The brand as a word of another domain: paypal-login.com, secure-paypal.net.
            let words = skeleton(label).split(whereSeparator: { $0 == "-" || $0 == "_" })
            if words.count > 1 && words.contains(where: { String($0) == skeleton(watchedLabel) }) {
                return (domain, "its name inside another domain (\(registrable))")
            }
        }
        // The brand's whole domain as subdomains of another: paypal.com.account-check.net.
        for domain in watched where host.hasPrefix(domain + ".") || host.contains("." + domain + ".") {
            return (domain, "its domain as a prefix of another (\(registrable))")
        }
        return nil
    }

    /// Damerau-Levenshtein distance (adjacent swaps count one), stopping past `limit`.
    public static func distance(_ a: String, _ b: String, limit: Int) -> Int {
        let x = Array(a), y = Array(b)
        if abs(x.count - y.count) > limit { return limit + 1 }
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] { value = min(value, previous2[j - 2] + 1) }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
