/// Whether a browser's `Origin` names this site, compared as origins are: scheme, host and port,
/// normalised (case, IPv6 brackets, default ports).
///
/// The `Host` header gives the host and port the browser connected to; a port it leaves out is the
/// default of the scheme the browser used, which for a same-origin request is the `Origin`'s. The
/// scheme is compared only when SecMon knows how it was reached (its own TLS, or a trusted proxy's
/// `X-Forwarded-Proto`); behind a proxy it does not trust it cannot tell.
enum SameOrigin {
    struct Endpoint: Equatable {
        var scheme: String?
        var host: String
        var port: Int?
    }

    /// `scheme://host[:port]` (an `Origin` header value).
    static func parseOrigin(_ text: String) -> Endpoint? {
        guard let separator = text.range(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var authority = Substring(text[separator.upperBound...])
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        guard var endpoint = parseAuthority(authority) else { return nil }
        endpoint.scheme = scheme
        return endpoint
    }

    /// `host[:port]`, `[v6]` or `[v6]:port` (a `Host` header value).
    static func parseAuthority(_ text: Substring) -> Endpoint? {
        guard !text.isEmpty, !text.contains("@") else { return nil }
        var host: Substring, rest: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            rest = text[text.index(after: close)...]
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            rest = text[colon...]
        } else {
            host = text
            rest = ""
        }
        var port: Int?
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()), (1...65535).contains(value) else { return nil }
            port = value
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
        return Endpoint(scheme: nil, host: host.lowercased(), port: port)
    }

    static func defaultPort(_ scheme: String) -> Int { scheme == "https" ? 443 : 80 }

    /// Whether `origin` is the site the request was sent to (`host`: the `Host` header; `scheme`:
    /// how the request reached SecMon, when known).
    static func matches(origin: String, host: String, scheme: String?) -> Bool {
        guard let origin = parseOrigin(origin), let originScheme = origin.scheme, let target = parseAuthority(Substring(host)) else {
            return false
        }
        if let scheme, scheme != originScheme { return false }
        let defaultPort = Self.defaultPort(originScheme)
        return origin.host == target.host && (origin.port ?? defaultPort) == (target.port ?? defaultPort)
    }
}
