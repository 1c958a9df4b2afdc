@testable import App
import Foundation
import Testing

/// The whole flow in a real headless Chromium: log in, change the initial password, see the
/// dashboard, press the API button, log out. Also checks that the page runs without a single
/// Content-Security-Policy violation (no inline script or style anywhere).
@Suite(
    "Browser", .serialized, .timeLimit(.minutes(3)),
    .enabled(if: WebDriver.driverURL != nil || ProcessInfo.processInfo.environment["SECMON_TEST_REQUIRE_ALL"] == "1",
             "needs chromedriver: run scripts/test.sh")
)
struct BrowserTests {
    @Test("log in, see the dashboard, press the API button, log out", arguments: TestDatabase.all)
    func dashboardFlow(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let browser = try await WebDriver.start(http: h.http)
            do {
                try await Self.flow(h, browser, db)
            } catch {
                if let png = try? await browser.screenshot() {
                    try? png.write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-browser-failure-\(db).png"))
                }
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    static func flow(_ h: SecMonHarness, _ browser: WebDriver, _ db: TestDatabase) async throws {
        try await browser.open(h.baseURL + "/")
        try await browser.wait("the login page") { try await browser.currentURL().contains("/login") }
        try await browser.type("#username", "admin")
        try await browser.type("#password", SecMonHarness.adminPassword)
        try await browser.click("#login")

        try await browser.wait("the forced password change") { try await browser.currentURL().hasSuffix("/account/password") }
        try await browser.type("input[name=current_password]", SecMonHarness.adminPassword)
        try await browser.type("input[name=new_password]", SecMonHarness.changedAdminPassword)
        try await browser.type("input[name=confirm_password]", SecMonHarness.changedAdminPassword)
        try await browser.click("#change-password")

        try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
        #expect(try await browser.text("h1") == "Dashboard")
        #expect(try await browser.text(".who").contains("admin"))

        try await browser.click("#api-button")
        try await browser.wait("the API answer") { try await browser.attribute("#api-result", "data-status") == "200" }
        let result = try await browser.text("#api-result")
        #expect(result.contains("\"status\": \"ok\""))
        #expect(result.contains("\"user\": \"admin\""))
        // The button's request shows up in the recent-activity panel (refreshed by the script).
        try await browser.wait("the API request in recent activity", timeout: 12) {
            try await browser.text("#recent-activity").contains("GET /api/status")
        }
        func png(_ data: Data, _ name: String) throws {
            try data.write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name)-\(db).png"))
        }
        try png(await browser.screenshot(), "dashboard")

        // The detection pipeline card, and reloading the rules from it (a form post with CSRF).
        try await browser.open(h.baseURL + "/#pipeline")
        #expect(try await browser.text("#pipeline").contains("Rules loaded"))
        try png(await browser.screenshot(), "pipeline")
        try await browser.setWindowSize(width: 420, height: 900)
        try await browser.open(h.baseURL + "/#pipeline")
        try png(await browser.screenshot(), "pipeline-narrow")
        try await browser.setWindowSize(width: 1280, height: 800)
        try await browser.click("#pipeline button[type=submit]")
        try await browser.wait("the reload result") { try await browser.currentURL() == h.baseURL + "/rules/reload" }
        #expect(try await browser.text("#reload-result").contains("rules are running now"))
        try png(await browser.screenshot(), "reload")
        try await browser.setWindowSize(width: 420, height: 900)
        try png(await browser.screenshot(), "reload-narrow")
        try await browser.setWindowSize(width: 1280, height: 800)
        try await browser.open(h.baseURL + "/")

        try await browser.click("#logout")
        try await browser.wait("the login page after logout") { try await browser.currentURL().hasSuffix("/login") }

        let console = try await browser.consoleMessages()
        #expect(!console.contains { $0.contains("Content Security Policy") || $0.contains("Content-Security-Policy") }, "\(console)")

        let objects = try await h.logObjects()
        let agents = Set(objects.compactMap { $0["user_agent"] as? String })
        #expect(agents.count == 1 && agents.first?.contains("Chrome") == true, "\(agents)")
        let actions = objects.map { "\($0["action"]!) \($0["method"]!) \($0["path"]!)" }
        for expected in ["LOGIN_SUCCESS POST /login", "API_REQUEST GET /api/status", "LOGOUT POST /logout"] {
            #expect(actions.contains(expected), "\(actions)")
        }
        #expect(!actions.contains { $0.hasPrefix("LOGIN_FAILURE") })
    }
}
