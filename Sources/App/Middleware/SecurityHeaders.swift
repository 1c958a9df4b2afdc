import Vapor

/// The security headers on every response: a strict Content-Security-Policy (no inline script
/// or style, no framing), `nosniff`, no referrer leakage, and `no-store` for anything that is not
/// a static asset.
enum SecurityHeaders {
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static let fixed: [(String, String)] = [
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]

    static func apply(to response: Response, for request: Request) {
        for (name, value) in fixed { response.headers.replaceOrAdd(name: name, value: value) }
        // Over HTTPS, tell browsers to use nothing else for a year (no downgrade by a network attacker).
        if CookieFactory.isSecure(request) {
            response.headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000")
        }
        if !request.url.path.hasPrefix(StaticFilesMiddleware.prefix) {
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
    }
}
