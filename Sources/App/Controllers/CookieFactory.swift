import SecurityModel
import Vapor

/// Cookies with SecMon's attributes: HttpOnly always, SameSite, and `Secure` over HTTPS.
enum CookieFactory {
    /// Whether `request` reached us over HTTPS (directly, or as a trusted proxy says).
    static func isSecure(_ request: Request) -> Bool {
        if let forced = request.secmon.config.secureCookies { return forced }
        if request.secmon.config.tlsCertificatePath != nil { return true }
        guard request.secmon.addresses.isTrusted(request.remoteAddress?.ipAddress) else { return false }
        return request.headers.first(name: "X-Forwarded-Proto")?.lowercased() == "https"
    }

    static func make(_ value: String, request: Request, path: String = "/", maxAge: Int?, sameSite: HTTPCookies.SameSitePolicy = .lax) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, expires: nil, maxAge: maxAge, domain: nil, path: path,
            isSecure: isSecure(request), isHTTPOnly: true, sameSite: sameSite
        )
    }

    static func expired(request: Request, path: String = "/") -> HTTPCookies.Value {
        HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, domain: nil, path: path,
                          isSecure: isSecure(request), isHTTPOnly: true, sameSite: .lax)
    }
}
