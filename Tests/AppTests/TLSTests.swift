@testable import App
import Foundation
import NIOHTTP1
import Testing

@Suite("HTTPS", .timeLimit(.minutes(10)))
struct TLSTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test("with --tls-cert and --tls-key SecMon speaks HTTPS and its cookies are Secure")
    func https() async throws {
        try await SecMonHarness.with(.sqlite, adjust: {
            $0.tlsCertificatePath = Self.fixtures.appendingPathComponent("test-tls-cert.pem").path
            $0.tlsKeyPath = Self.fixtures.appendingPathComponent("test-tls-key.pem").path
        }) { h in
            #expect(h.baseURL.hasPrefix("https://"))
            let client = h.client()
            let page = try await client.get("/login")
            #expect(page.status == .ok)
            #expect(page.headers.first(name: "strict-transport-security") == "max-age=31536000")
            let loginCookie = try #require(page.headers["set-cookie"].first { $0.hasPrefix("secmon_login_csrf=") })
            #expect(loginCookie.contains("Secure") && loginCookie.contains("SameSite=Strict"))
            let login = try await client.postForm("/login", [
                "username": "admin", "password": SecMonHarness.adminPassword, "csrf_token": try #require(page.csrfToken),
            ], csrf: false)
            let session = try #require(login.headers["set-cookie"].first { $0.hasPrefix("secmon_session=") })
            #expect(session.contains("Secure") && session.contains("HttpOnly"))
        }
    }

    @Test("plain HTTP sends no HSTS header")
    func noHSTSOverHTTP() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let page = try await h.client().get("/login")
            #expect(page.headers.first(name: "strict-transport-security") == nil)
        }
    }

    @Test("an unreadable certificate is a start-up error that names the files")
    func badCertificate() async throws {
        await #expect(throws: StartupError.self) {
            try await SecMonHarness.with(.sqlite, adjust: {
                $0.tlsCertificatePath = "/nonexistent/cert.pem"
                $0.tlsKeyPath = "/nonexistent/key.pem"
            }) { _ in }
        }
    }
}
