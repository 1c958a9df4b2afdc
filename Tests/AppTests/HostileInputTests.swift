@testable import App
import Foundation
import SecurityModel
import Testing

/// Regression tests for what the security review of issue 13 found (items 1 and 2).
@Suite("Hostile input", .timeLimit(.minutes(10)))
struct HostileInputTests {
    /// One letter and thousands of combining marks: one `Character`, tens of kilobytes.
    static let heavyName = "a" + String(repeating: "\u{0301}", count: 20_000)

    @Test("user-controlled text is cut by UTF-8 bytes, not characters, before it is logged or stored", arguments: TestDatabase.all)
    func bytesNotCharacters(db: TestDatabase) async throws {
        #expect(Self.heavyName.count == 1)
        try await SecMonHarness.with(db, adjust: { $0.maxBodyBytes = 256 * 1024 }) { h in
            let attacker = h.client()
            _ = try await attacker.login(Self.heavyName, "wrong-password")
            let agent = "x" + String(repeating: "\u{0308}", count: 5_000)
            _ = try await attacker.send(.GET, "/login", headers: [("User-Agent", agent)], body: nil)
            let lines = try await h.logLines()
            #expect(lines.allSatisfy { $0.utf8.count < 4096 }, "\(lines.map(\.utf8.count))")
            let objects = try await h.logObjects()
            let failure = try #require(objects.first { $0["action"] as? String == "LOGIN_FAILURE" })
            let attempted = try #require(failure["attempted_username"] as? String)
            #expect(attempted.utf8.count <= AuthController.maxUsernameBytes)
            #expect(attempted.unicodeScalars.starts(with: "a\u{0301}\u{0301}".unicodeScalars))
            let agents = objects.compactMap { $0["user_agent"] as? String }
            #expect(agents.allSatisfy { $0.utf8.count <= 512 })
            let rows = try await h.eventRows()
            #expect(rows.allSatisfy { ($0.attemptedUsername?.utf8.count ?? 0) <= AuthController.maxUsernameBytes && ($0.userAgent?.utf8.count ?? 0) <= 512 })
        }
    }

    @Test("a byte prefix never splits a scalar", arguments: [0, 1, 2, 3, 4, 5, 10])
    func prefixBoundary(_ bytes: Int) {
        let text = "aé€😀"   // 1, 2, 3 and 4 bytes
        let cut = text.prefix(utf8Bytes: bytes)
        #expect(cut.utf8.count <= bytes)
        #expect(text.hasPrefix(cut))
        let expected = [0: "", 1: "a", 2: "a", 3: "aé", 4: "aé", 5: "aé", 10: "aé€😀"]
        #expect(cut == expected[bytes])
    }

    @Test("after login only a path on this server is followed", arguments: [
        ("/dashboard", "/dashboard"), ("/activity?ip=1.2.3.4&user=a", "/activity?ip=1.2.3.4&user=a"), ("/%09/evil.example", "/%09/evil.example"),
        ("//evil.example", "/"), ("/\\evil.example", "/"), ("/\t/evil.example", "/"), ("/\n/evil.example", "/"),
        ("/\r/evil.example", "/"), ("/ /evil.example", "/"), ("/a\\b", "/"), ("https://evil.example", "/"), (" /x", "/"),
        ("/\u{0000}x", "/"), ("/\u{00A0}/evil.example", "/"), ("/\u{200B}/evil.example", "/"), ("/\u{2028}x", "/"), ("", "/"),
        ("/" + String(repeating: "a", count: 600), "/"),
    ])
    func safeNext(_ next: String, _ expected: String) {
        #expect(AuthController.safeNext(next) == expected)
    }

    @Test("a tab inside next does not redirect off-site after a real login", arguments: TestDatabase.all)
    func openRedirect(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("carol", role: .viewer)
            let client = h.client()
            let page = try await client.get("/login")
            let token = try #require(page.csrfToken)
            let response = try await client.postForm("/login", [
                "username": "carol", "password": "user-password-123", "next": "/\t/evil.example", "csrf_token": token,
            ], csrf: false)
            #expect(response.status == .seeOther)
            #expect(response.headers.first(name: "location") == "/")
        }
    }
}

@Suite("Password policy against bcrypt's NUL", .timeLimit(.minutes(10)))
struct PasswordControlCharacterTests {
    @Test("passwords with a NUL or another control character are refused", arguments: [
        "\u{0000}abcdefghijk", "abcdefghijkl\u{0000}", "abcdef\tghijkl", "abcdef\nghijkl", "abc\u{1B}[31mdefghij",
    ])
    func refused(_ password: String) {
        #expect(throws: UserService.Refusal.self) { try UserService.check(password: password, username: "alice") }
    }

    @Test("ordinary long passwords, spaces and non-ASCII letters included, are accepted")
    func accepted() throws {
        try UserService.check(password: "correct horse battery", username: "alice")
        try UserService.check(password: "pässwörter-sind-lang", username: "alice")
    }
}

@Suite("Activity paging link", .timeLimit(.minutes(10)))
struct OlderLinkTests {
    @Test("filter values cannot add parameters to the Older link")
    func encoded() throws {
        let filter = EventStore.Filter(ipAddress: "10.0.0.1&action=LOGOUT", username: "a+b c#d", action: "PAGE_VISIT")
        let link = EventsQuery.olderLink(filter, before: "2026-12-01T10:00:00.000001")
        let components = try #require(URLComponents(string: link))
        #expect(components.path == "/activity")
        let items = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items == ["ip": "10.0.0.1&action=LOGOUT", "user": "a+b c#d", "action": "PAGE_VISIT", "before": "2026-12-01T10:00:00.000001"])
        #expect(!link.contains("+"))
    }
}

@Suite("Same origin", .timeLimit(.minutes(10)))
struct SameOriginTests {
    @Test("origins are compared by scheme, host and port, IPv6 included", arguments: [
        ("http://[::1]:8080", "[::1]:8080", nil as String?, true),
        ("http://[::1]:8080", "[::1]:8081", nil, false),
        ("http://[::1]", "[::1]", nil, true),
        ("http://[::1]", "[::1]:80", nil, true),
        ("https://[::1]", "[::1]", "https", true),
        ("http://127.0.0.1:8080", "127.0.0.1:8080", nil, true),
        ("http://127.0.0.1:9999", "127.0.0.1:8080", nil, false),
        ("http://127.0.0.1", "127.0.0.1:8080", nil, false),
        ("https://SecMon.Example", "secmon.example", nil, true),
        ("https://secmon.example", "secmon.example", "http", false),
        ("http://secmon.example.evil.example", "secmon.example", nil, false),
        ("https://evil.example", "secmon.example", nil, false),
        ("ftp://secmon.example", "secmon.example", nil, false),
        ("http://user@secmon.example", "secmon.example", nil, false),
        ("garbage", "secmon.example", nil, false),
    ])
    func matches(_ origin: String, _ host: String, _ scheme: String?, _ expected: Bool) {
        #expect(SameOrigin.matches(origin: origin, host: host, scheme: scheme) == expected)
    }
}

@Suite("Requests in progress per source", .timeLimit(.minutes(10)))
struct InFlightLimiterTests {
    @Test("a source past its limit is refused until one of its requests ends; other sources are not affected")
    func limits() {
        let limiter = InFlightLimiter(limit: 2)
        #expect(limiter.enter("198.51.100.1"))
        #expect(limiter.enter("198.51.100.1"))
        #expect(!limiter.enter("198.51.100.1"))
        #expect(limiter.enter("198.51.100.2"))
        limiter.leave("198.51.100.1")
        #expect(limiter.enter("198.51.100.1"))
        #expect(limiter.refused == 1)
        for source in ["198.51.100.1", "198.51.100.1", "198.51.100.2"] { limiter.leave(source) }
        #expect(limiter.activeSources == 0)
    }

    @Test("past the limit the answer is 429 with Retry-After, and it is logged")
    func answers() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.maxInFlightPerSource = 0 }) { h in
            let response = try await h.client().get("/login")
            #expect(response.status == .tooManyRequests)
            #expect(response.headers.first(name: "retry-after") == "1")
            let lines = try await h.logObjects()
            #expect(lines.last?["status"] as? Int == 429)
        }
    }
}

@Suite("Password change attempts", .timeLimit(.minutes(10)))
struct PasswordChangeAttemptTests {
    @Test("wrong current passwords count as failed logins: the account locks and the session ends", arguments: TestDatabase.all)
    func counted(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            try await h.createUser("dave", role: .viewer)
            let client = h.client()
            #expect(try await client.login("dave", "user-password-123").status == .seeOther)
            var last: TestClient.Response?
            for attempt in 0..<5 {
                last = try await client.postForm("/account/password", [
                    "current_password": "guess-\(attempt)-wrong", "new_password": "new-password-456", "confirm_password": "new-password-456",
                ])
            }
            #expect(last?.status == .seeOther)
            #expect(last?.headers.first(name: "location") == "/login")
            // The session is gone, and the right password no longer logs in while locked.
            #expect(try await client.get("/api/me").status == .unauthorized)
            #expect(try await h.client().login("dave", "user-password-123").status == .unauthorized)
        }
    }
}

@Suite("Private files", .timeLimit(.minutes(10)))
struct PrivateFilesTests {
    @Test("the data directory and the SQLite file SecMon creates are private; the log directory is readable by its group")
    func modes() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-modes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = dir.appendingPathComponent("data/secmon.sqlite").path
        var modes: [Int] = []
        try await SecMonHarness.with(.sqlite, directory: dir, databaseConfig: .sqlite(path: database)) { h in
            for path in [dir.appendingPathComponent("data").path, database, dir.appendingPathComponent("logs").path, h.config.logPath] {
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                modes.append((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1)
            }
        }
        #expect(modes.count == 4)
        #expect(modes.prefix(3) == [0o700, 0o600, 0o750])
        #expect((modes.last ?? 0) & 0o007 == 0)
    }
}

@Suite("Host names", .timeLimit(.minutes(10)))
struct AllowedHostTests {
    @Test("on loopback only loopback names are answered: a page elsewhere cannot reach it by DNS rebinding")
    func loopback() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let client = h.client()
            let port = URLComponents(string: h.baseURL)?.port ?? 0
            #expect(try await client.send(.GET, "/login", headers: [("Host", "evil.example:\(port)")]).status == .misdirectedRequest)
            #expect(try await client.send(.GET, "/login", headers: [("Host", "localhost:\(port)")]).status == .ok)
            #expect(try await client.send(.GET, "/login", headers: [("Host", "[::1]:\(port)")]).status == .ok)
            #expect(try await client.send(.GET, "/login").status == .ok)
            let lines = try await h.logObjects()
            #expect(lines.contains { $0["status"] as? Int == 421 })
        }
    }

    @Test("configured names replace the defaults")
    func configured() async throws {
        try await SecMonHarness.with(.sqlite, adjust: { $0.allowedHosts = ["SecMon.Example"] }) { h in
            let client = h.client()
            let byAddress = try await client.send(.GET, "/login")
            let byName = try await client.send(.GET, "/login", headers: [("Host", "secmon.example")])
            #expect(byAddress.status == .misdirectedRequest)
            #expect(byName.status == .ok)
        }
    }

    @Test("listening on every address with no names configured, any host is answered")
    func open() {
        var config = SecMonConfig()
        config.hostname = "0.0.0.0"
        #expect(config.effectiveAllowedHosts == nil)
        config.hostname = "127.0.0.1"
        #expect(config.effectiveAllowedHosts?.contains("localhost") == true)
    }
}
