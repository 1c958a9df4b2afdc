import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A minimal W3C WebDriver client for a real headless Chromium driven by `chromedriver` on loopback.
final class WebDriver: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let http: HTTPClient
    private let base: String
    private let session: String
    private let profile: URL

    /// The chromedriver that `scripts/test.sh` started on loopback (`SECMON_TEST_CHROMEDRIVER_URL`).
    ///
    /// The driver runs outside the test process on purpose: a Chromium spawned from inside the
    /// test runner inherits its thread's blocked signals and never finishes starting.
    static var driverURL: String? { ProcessInfo.processInfo.environment["SECMON_TEST_CHROMEDRIVER_URL"] }

    /// Opens a headless Chromium session on the driver.
    /// `javaScript: false` starts a browser with scripts off (pages must work without them).
    static func start(http: HTTPClient, javaScript: Bool = true) async throws -> WebDriver {
        guard let base = driverURL else {
            throw Failure(description: "SECMON_TEST_CHROMEDRIVER_URL is not set: run the tests with scripts/test.sh (it installs chromium-driver and starts it)")
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-chromium-\(UUID().uuidString)")
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:loggingPrefs": ["browser": "ALL"],
            "goog:chromeOptions": [
                "binary": FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") ? "/usr/bin/chromium" : "/usr/bin/chromium-browser",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--user-data-dir=\(profile.path)", "--window-size=1280,900", "--no-first-run"],
                "prefs": javaScript ? [String: Any]() : ["profile.managed_default_content_settings.javascript": 2],
            ],
        ]]]
        let (_, body) = try await call(http, .POST, base + "/session", capabilities)
        guard let value = body["value"] as? [String: Any], let session = value["sessionId"] as? String else {
            throw Failure(description: "no WebDriver session: \(body)")
        }
        return WebDriver(http: http, base: base, session: session, profile: profile)
    }

    private init(http: HTTPClient, base: String, session: String, profile: URL) {
        self.http = http
        self.base = base
        self.session = session
        self.profile = profile
    }

    /// Ends the session and the driver.
    func quit() async {
        _ = try? await command(.DELETE, "", nil)
        try? FileManager.default.removeItem(at: profile)
    }

    func open(_ url: String) async throws { _ = try await command(.POST, "/url", ["url": url]) }

    /// Resizes the browser window (to look at a page at a phone's width, say).
    func setWindowSize(width: Int, height: Int) async throws {
        _ = try await command(.POST, "/window/rect", ["width": width, "height": height])
    }

    func currentURL() async throws -> String { try await command(.GET, "/url", nil) as? String ?? "" }

    /// The element matching `css`, waiting up to `timeout` seconds for it to appear.
    func element(_ css: String, timeout: Double = 5) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let (status, body) = try await WebDriver.call(http, .POST, base + "/session/\(session)/element", ["using": "css selector", "value": css])
            if status == .ok, let value = body["value"] as? [String: Any], let id = value.values.first as? String { return id }
            if Date() > deadline { throw Failure(description: "no element '\(css)' on \(try await currentURL())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Finds `css` and runs `action` on it, finding it again when the page replaced it in between
    /// (live pages swap sections as the server's feed says: WebDriver answers "stale element").
    private func onElement<T>(_ css: String, _ action: (String) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            let id = try await element(css)
            do {
                return try await action(id)
            } catch let failure as Failure where failure.description.contains("404") && attempt < 5 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func type(_ css: String, _ text: String) async throws {
        try await onElement(css) { id in _ = try await command(.POST, "/element/\(id)/value", ["text": text]) }
    }

    func click(_ css: String) async throws {
        try await onElement(css) { id in _ = try await command(.POST, "/element/\(id)/click", [:]) }
    }

    func text(_ css: String) async throws -> String {
        try await onElement(css) { id in try await command(.GET, "/element/\(id)/text", nil) as? String ?? "" }
    }

    func attribute(_ css: String, _ name: String) async throws -> String? {
        try await onElement(css) { id in try await command(.GET, "/element/\(id)/attribute/\(name)", nil) as? String }
    }

    /// Waits until `condition` holds, polling; fails after `timeout` seconds with `what`.
    ///
    /// A condition that throws counts as not holding yet: while a form post navigates, an element
    /// found on the old page can be gone when its text is read (WebDriver's "stale element").
    func wait(_ what: String, timeout: Double = 5, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: (any Error)?
        while true {
            do {
                if try await condition() { return }
                lastError = nil
            } catch {
                lastError = error
            }
            if Date() > deadline {
                throw Failure(description: "timed out waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The browser console's messages so far.
    func consoleMessages() async throws -> [String] {
        let entries = try await command(.POST, "/se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.compactMap { $0["message"] as? String }
    }

    /// A PNG of the window.
    func screenshot() async throws -> Data {
        guard let text = try await command(.GET, "/screenshot", nil) as? String, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    private func command(_ method: HTTPMethod, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        let (status, response) = try await WebDriver.call(http, method, base + "/session/\(session)" + path, body)
        guard status == .ok else { throw Failure(description: "WebDriver \(method) \(path): \(status) \(response)") }
        return response["value"]
    }

    private static func call(_ http: HTTPClient, _ method: HTTPMethod, _ url: String, _ body: [String: Any]?) async throws -> (HTTPResponseStatus, [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 32 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        return (response.status, object)
    }
}
