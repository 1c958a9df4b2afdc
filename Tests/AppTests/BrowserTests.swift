@testable import App
import FileInspection
import Foundation
import SecurityModel
import Simulation
import SQLKit
import TestSupport
import Testing

/// The whole flow in a real headless Chromium: log in, change the initial password, see the
/// dashboard, press the API button, log out. Also checks that the page runs without a single
/// Content-Security-Policy violation (no inline script or style anywhere).
@Suite(
    "Browser", .serialized, .timeLimit(.minutes(10)),
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

    @Test("an analyst opens an incident, ticks a task, adds a note and closes it; the timeline shows each step", arguments: TestDatabase.all)
    func incidentFlow(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let browser = try await WebDriver.start(http: h.http)
            do {
                try await Self.incident(h, browser, db)
            } catch {
                if let png = try? await browser.screenshot() {
                    try? png.write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-browser-incident-failure-\(db).png"))
                }
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test("an analyst follows the host: system monitor (updated by its script), processes as a tree, network", arguments: TestDatabase.all)
    func hostPages(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.hostSensors = HostSensorsSupport.configuration(interval: .seconds(1)) }) { h in
            try await HostSensorsSupport.waitForFirstReading(h)
            let browser = try await WebDriver.start(http: h.http)
            func png(_ name: String) async throws {
                try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name)-\(db).png"))
            }
            do {
                try await h.createUser("ana", role: .analyst)
                try await browser.setWindowSize(width: 1280, height: 1000)
                try await browser.open(h.baseURL + "/login")
                try await browser.type("#username", "ana")
                try await browser.type("#password", "user-password-123")
                try await browser.click("#login")
                try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
                #expect(try await browser.text("#host-panel").contains("CPU"))
                try await browser.open(h.baseURL + "/host")
                #expect(try await browser.text("#host-tiles").contains("Memory"))
                // The script replaces the live part with a newer reading.
                try await browser.wait("the page following the sensors", timeout: 15) { try await browser.text("#host-refresh").contains("Updated") }
                #expect(try await browser.text("#host-disks").contains("/"))
                try await png("host")
                try await browser.open(h.baseURL + "/host/processes?view=tree&sort=pid")
                #expect(try await browser.text("#process-list").contains("secmon"))
                try await png("host-processes")
                try await browser.setWindowSize(width: 420, height: 900)
                try await png("host-processes-narrow")
                try await browser.setWindowSize(width: 1280, height: 1000)
                try await browser.open(h.baseURL + "/host/network")
                let listening = try await browser.text("#listening")
                #expect(listening.contains("tcp"))
                try await png("host-network")
            } catch {
                try? await png("browser-host-failure")
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test("an administrator fills H-02's indicator list from the page; a bad line is shown by number, the text kept", arguments: TestDatabase.all)
    func indicators(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let browser = try await WebDriver.start(http: h.http)
            func png(_ name: String) async throws {
                try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name)-\(db).png"))
            }
            do {
                try await h.createUser("ada", role: .admin)
                try await browser.setWindowSize(width: 1280, height: 1000)
                try await browser.open(h.baseURL + "/login")
                try await browser.type("#username", "ada")
                try await browser.type("#password", "user-password-123")
                try await browser.click("#login")
                try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
                try await browser.click("a[href='/indicators']")
                try await browser.wait("the indicators page") { try await browser.currentURL() == h.baseURL + "/indicators" }
                #expect(try await browser.text("#missing-indicator_ips").contains("H-02"))
                // The form is ready for the missing list: its name is filled in.
                #expect(try await browser.attribute("#new-list input[name='name']", "value") == "indicator_ips")
                try await browser.type("#new-list input[name='description']", "C2 addresses from incident 42")
                try await browser.type("#new-list textarea[name='entries']", "203.0.113.66  # C2\n198.51.100.0/33\n")
                try await browser.click("#new-list button[type='submit']")
                try await browser.wait("the refusal") { (try? await browser.text("#indicators-error"))?.contains("line 2") == true }
                #expect(try await browser.text("#new-list textarea[name='entries']").contains("203.0.113.66"))
                try await png("indicators-error")
                try await browser.open(h.baseURL + "/indicators")
                try await browser.type("#new-list textarea[name='entries']", "203.0.113.66  # C2\n198.51.100.0/24\n2001:db8:bad::/48\n")
                try await browser.click("#new-list button[type='submit']")
                try await browser.wait("the saved list") { (try? await browser.text("#indicators-notice"))?.contains("3 entries") == true }
                #expect(try await browser.text("#list-indicator_ips").contains("Used by H-02"))
                try await png("indicators")
            } catch {
                try? await png("browser-indicators-failure")
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test("an administrator analyses a look-alike URL and checks a loopback port on the tools page")
    func tools() async throws {
        let greeter = try ToolsTests.Greeter(banner: "SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
        defer { greeter.stop() }
        let logs = try TempFiles()
        let auth = try logs.write("auth.log", "")
        let rsyslog = try Rsyslog()
        defer { rsyslog.stop() }
        try await SecMonHarness.with(.sqlite, adjust: { $0.tailFiles = [.init(path: auth, format: .syslog), .init(path: logs.path + "/missing.log", format: .access)]
                                                      $0.tailPollSeconds = 0.05
                                                      $0.syslogExport = "tcp://127.0.0.1:\(rsyslog.tcpPort)" }) { h in
            let browser = try await WebDriver.start(http: h.http)
            func png(_ name: String) async throws {
                try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name).png"))
            }
            do {
                try await h.createUser("ada", role: .admin)
                try await browser.setWindowSize(width: 1280, height: 1100)
                try await browser.open(h.baseURL + "/login")
                try await browser.type("#username", "ada")
                try await browser.type("#password", "user-password-123")
                try await browser.click("#login")
                try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
                try await browser.click("a[href='/tools']")
                try await browser.wait("the tools page") { try await browser.currentURL() == h.baseURL + "/tools" }
                try await browser.type("#tool-url input[name='url']", "https://www.paypal.com@xn--pypal-4ve.com/signin")
                try await browser.click("#tool-url button[type='submit']")
                try await browser.wait("the analysis") { (try? await browser.text("#url-verdict"))?.contains("malicious") == true }
                #expect(try await browser.text("#url-findings").contains("imitates paypal.com"))
                try await png("tools-url")
                try await browser.type("#tool-port input[name='host']", "127.0.0.1")
                try await browser.type("#tool-port input[name='port']", "\(greeter.port)")
                try await browser.click("#tool-port button[type='submit']")
                try await browser.wait("the port check") { (try? await browser.text("#port-result"))?.contains("open") == true }
                #expect(try await browser.text("#port-result").contains("SSH-2.0-OpenSSH_9.2p1"))
                try await png("tools-port")
                // Host response: quarantine a file, terminate a process after its confirmation page.
                let files = try TempFiles()
                let dropper = try files.write("kworker", "#!/bin/sh\nsleep 1\n")
                try await browser.open(h.baseURL + "/files/quarantine")
                try await browser.type("#quarantine-add input[name='path']", dropper)
                try await browser.click("#quarantine-add button[type='submit']")
                try await browser.wait("the quarantine") { (try? await browser.text("#quarantine-notice"))?.contains("is in quarantine") == true }
                #expect(try await browser.text("#quarantined").contains(dropper))
                try await png("quarantine")
                let sleeper = try ChildProcess(["/bin/sleep", "60"])
                defer { sleeper.stop() }
                try await browser.open(h.baseURL + "/host/processes/\(sleeper.pid)/terminate")
                try await png("terminate-confirm")
                try await browser.click("#terminate-confirm")
                try await browser.wait("the outcome") { (try? await browser.text("#terminate-outcome"))?.contains("after SIGTERM") == true }
                try await png("terminate-done")
                // A followed auth log: seven failures and a line that is not syslog.
                try await HostPagesTests.eventually(10) { h.app.secmon.tails?.statuses.first?.state == "following" }
                try FileTailSourceHelper.append(auth, (1...7).map { "Dec  2 10:00:0\($0) web-1 sshd[2\($0)]: Failed password for root from 203.0.113.77 port 4100\($0) ssh2\n" }.joined()
                                                + "--- not a syslog line ---\n")
                try await HostPagesTests.eventually(10) { h.app.secmon.tails?.statuses.first?.rejected == 1 }
                try await browser.open(h.baseURL + "/sources")
                #expect(try await browser.text("#tailed-files").contains("waiting for the file to appear"))
                try await png("sources")
                // A key for another host to send its logs with: shown once.
                try await browser.type("#ingest-add input[name='name']", "web-2")
                try await browser.click("#ingest-add button[type='submit']")
                try await browser.wait("the new key") { (try? await browser.text("#ingest-new-key"))?.contains("smi_") == true }
                #expect(try await browser.text("#ingest-keys").contains("web-2"))
                try await png("sources-ingest-key")
                // The seven failures are a D-08 alert, sent to the SIEM; an administrator sends a test message too.
                try await HostPagesTests.eventually(15) { rsyslog.received.contains("rule=\"D-08\"") }
                // Its incident shows the auth log's lines as evidence.
                let d08 = try #require(try await IncidentTests.incidents(h).first { $0.rule == "D-08" })
                // The lines are stored in batches (within half a second; later on a loaded machine).
                try await HostPagesTests.eventually(15) { try await HostEventStore(database: h.app.db as! any SQLDatabase).recent(categories: ["sshd"], limit: 10).count == 7 }
                try await browser.open(h.baseURL + "/incidents/\(d08.id)")
                #expect(try await browser.text("body").contains("Failed password for root from 203.0.113.77"))
                try await png("incident-ssh")
                try await browser.open(h.baseURL + "/admin/export")
                try await browser.click("#export-test")
                try await browser.wait("the test message") { (try? await browser.text("#export-notice"))?.contains("A test message went to") == true }
                #expect(try await browser.text("#export-sent") != "0")
                try await png("export")
                // The logs' hash chains, verified from the page.
                try await browser.open(h.baseURL + "/admin/logs")
                try await browser.click("#logs-verify")
                try await browser.wait("the verification") { (try? await browser.text("#log-intact"))?.contains("Intact") == true }
                try await png("log-integrity")
                // A policy: H-06 terminates the process by itself (in dry run, as a new policy starts).
                try await browser.open(h.baseURL + "/response/policies")
                try await browser.click("#new-policy select[name='rule'] option[value='H-06']")
                try await browser.click("#new-policy input[name='action_watch']")
                try await browser.click("#new-policy input[name='action_terminate']")
                try await browser.click("#new-policy button[type='submit']")
                try await browser.wait("the new policy") { (try? await browser.text("#policy-H-06"))?.contains("terminate the process (dry run)") == true }
                try await png("response-policies-host")
                // The threat score, with a critical file change and a critical host alert behind it.
                let sql = h.app.db as! any SQLDatabase
                let old = FileState(path: "/etc/passwd", kind: .file, sha256: "aa", size: 10, mode: 0o644, uid: 0, gid: 0, mtimeNanos: 1, inode: 5)
                var new = old
                new.sha256 = "bb"
                _ = try await FileIntegrityStore(database: sql).record([FileChange(path: "/etc/passwd", kind: .modified, attributes: ["sha256"], old: old, new: new)], on: h.app.db)
                let now = Timestamp.now()
                _ = try await AlertStore(database: sql).save(SecurityAlert(id: EventID.make(at: now), rule: "H-06", title: "Reverse shell", level: .critical,
                    group: [], entities: [], firstTime: now, lastTime: now, eventCount: 1, evidence: [], status: .open, node: "test", playbook: nil), rowID: nil)
                try await h.app.secmon.threatScore.computeAndStore(at: Timestamp(microseconds: now.microseconds - 3_600_000_000))
                try await h.app.secmon.threatScore.computeAndStore()
                try await browser.open(h.baseURL + "/host/score")
                #expect(try await browser.text("#score-total").contains("75"))
                try await png("threat-score")
                try await browser.open(h.baseURL + "/host")
                #expect(try await browser.text("#host-score").contains("75"))
                try await png("host-with-score")
                // At a phone's width.
                try await browser.setWindowSize(width: 420, height: 900)
                for page in ["tools", "host/score", "files/quarantine", "sources", "admin/export", "admin/logs"] {
                    try await browser.open(h.baseURL + "/" + page)
                    try await png(page.replacingOccurrences(of: "/", with: "-") + "-narrow")
                }
            } catch {
                try? await png("browser-tools-failure")
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test("an administrator checks file integrity and accepts a change, then scans the EICAR file from the page", arguments: TestDatabase.all)
    func files(db: TestDatabase) async throws {
        let tree = try FileServicesTests.makeTree()
        defer { try? FileManager.default.removeItem(atPath: tree) }
        let eicar = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-eicar-\(UUID().uuidString).com")
        try Data(FilePagesTests.eicar.utf8).write(to: eicar)
        defer { try? FileManager.default.removeItem(at: eicar) }
        try await SecMonHarness.with(db) { h in
            try await FileIntegrityStore(database: h.app.db as! any SQLDatabase).saveSettings(
                paths: [tree + "/etc", tree + "/usr/bin"], ignore: ["*.swp"], by: .secmon, on: h.app.db)
            let browser = try await WebDriver.start(http: h.http)
            func png(_ name: String) async throws {
                try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name)-\(db).png"))
            }
            do {
                try await h.createUser("ada", role: .admin)
                try await browser.setWindowSize(width: 1280, height: 1000)
                try await browser.open(h.baseURL + "/login")
                try await browser.type("#username", "ada")
                try await browser.type("#password", "user-password-123")
                try await browser.click("#login")
                try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
                try await browser.click("a[href='/files/integrity']")
                try await browser.wait("the integrity page") { try await browser.currentURL() == h.baseURL + "/files/integrity" }
                try await browser.click("form[action='/files/integrity/check'] button")
                try await browser.wait("the baseline") { (try? await browser.text("#fim-notice"))?.contains("recorded now") == true }
                try Data("root:x:0:0::/root:/bin/bash\nmallory:x:0:0::/:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/passwd"))
                #expect(chmod(tree + "/usr/bin/tool", 0o4755) == 0)
                try await browser.click("form[action='/files/integrity/check'] button")
                try await browser.wait("the changes") { (try? await browser.text("#fim-notice"))?.contains("2 new change(s)") == true }
                #expect(try await browser.text("#fim-open").contains(tree + "/etc/passwd"))
                try await png("files-integrity")
                try await browser.click("#fim-open tbody tr:first-child form button")
                try await browser.wait("the acceptance") { (try? await browser.text("#fim-notice"))?.contains("is the baseline now") == true }
                try await browser.click("a[href='/files/scans']")
                try await browser.wait("the scanner") { try await browser.currentURL() == h.baseURL + "/files/scans" }
                try await browser.type("#scan-upload input[type='file']", eicar.path)
                try await browser.click("#scan-upload button[type='submit']")
                try await browser.wait("the report") { (try? await browser.text("#verdict")) == "malicious" }
                #expect(try await browser.text("#scan-reasons").contains("secmon_test_files"))
                try await png("files-scan")
                // At a phone's width: the tables scroll inside their cards.
                try await browser.setWindowSize(width: 420, height: 900)
                try await browser.open(h.baseURL + "/files/integrity")
                try await png("files-integrity-narrow")
                try await browser.open(h.baseURL + "/files/scans")
                try await png("files-scans-narrow")
            } catch {
                try? await png("browser-files-failure")
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    static func incident(_ h: SecMonHarness, _ browser: WebDriver, _ db: TestDatabase) async throws {
        func png(_ name: String) async throws {
            try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name)-\(db).png"))
        }
        // An attack from 127.0.0.2, by the simulator's own code; the analyst works from 127.0.0.1.
        try await h.createUser("simuser", role: .viewer, password: "sim-password-123")
        let simulator = try Simulator(target: URL(string: h.baseURL)!, user: "simuser", password: "sim-password-123", allowRemote: false, http: h.http, requestTimeout: .seconds(60))
        _ = try await simulator.run(.bruteForce)
        _ = try await simulator.run(.botPattern)
        try await h.flush()
        try await h.createUser("ana", role: .analyst)

        try await browser.setWindowSize(width: 1280, height: 900)
        try await browser.open(h.baseURL + "/login")
        try await browser.type("#username", "ana")
        try await browser.type("#password", "user-password-123")
        try await browser.click("#login")
        try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
        #expect(try await browser.text("#open-incidents").contains("Brute force login"))
        try await png("dashboard-incidents")

        try await browser.open(h.baseURL + "/incidents")
        #expect(try await browser.text("#incident-list").contains("Bot-like repetition"))
        try await png("incidents")
        try await browser.setWindowSize(width: 420, height: 900)
        try await png("incidents-narrow")
        try await browser.setWindowSize(width: 1280, height: 900)

        // A baseline alert shows what its rule saw, under its title.
        var regular = SecurityAlert(id: "baseline-1", rule: "D-17", title: "Regular automated interaction (API calls at machine-regular intervals)",
                                    level: .medium, group: [.init(field: "ip_address", value: "203.0.113.99")], entities: [],
                                    firstTime: Timestamp(microseconds: 1_795_000_000_000_000), lastTime: Timestamp(microseconds: 1_795_000_330_000_000),
                                    eventCount: 22, evidence: [], status: .closed, node: h.config.nodeName)
        regular.explanation = "22 occurrences at regular intervals since 2026-11-18T11:06:54Z; the last 20: mean gap 15.01 s, standard deviation 0.18 s, variation 1.2 % (at most 10.0 % counts as machine-regular)"
        _ = try await AlertStore(database: h.app.db as! any SQLDatabase).save(regular, rowID: nil)
        try await browser.open(h.baseURL + "/alerts?rule=D-17")
        #expect(try await browser.text("main").contains("variation 1.2 % (at most 10.0 % counts as machine-regular)"))
        try await png("alerts-baseline")
        try await browser.setWindowSize(width: 420, height: 900)
        try await png("alerts-baseline-narrow")
        try await browser.setWindowSize(width: 1280, height: 900)
        try await browser.open(h.baseURL + "/incidents")
        try await browser.click("#incident-list tbody tr:last-child a")
        try await browser.wait("the incident page") { try await browser.currentURL().contains("/incidents/0") }
        #expect(try await browser.text("#incident-title").contains("Brute force login"))
        #expect(try await browser.text("#incident-status") == "New")
        #expect(try await browser.text("#evidence").contains("LOGIN_FAILURE"))
        try await png("incident")

        // Tick the first playbook task, with a comment.
        try await browser.type("#task-1 input[name=comment]", "blocked 127.0.0.2 at the proxy")
        try await browser.click("#task-1 button[value=done]")
        try await browser.wait("the task done") { try await browser.text("#task-1").contains("Done") }
        #expect(try await browser.text("#task-1").contains("blocked 127.0.0.2 at the proxy"))

        // A note, with Markdown and a script that must stay text.
        try await browser.type("#note-form textarea", "Only **failed** logins; no account `root`. <script>alert(1)</script>")
        try await browser.click("#note-form button[type=submit]")
        try await browser.wait("the note") { try await browser.text("#notes").contains("no account root") }
        #expect(try await browser.text("#notes").contains("<script>alert(1)</script>"), "the script shows as text")

        // SecMon blocked the attacker by itself (D-01's policy), and the incident says so and why.
        try await browser.wait("the automatic block") { try await browser.text("#response").contains("policy of D-01") }
        #expect(try await browser.text("#timeline").contains("Blocked 127.0.0.2"))
        // The analyst also puts the address on the watchlist, from the incident.
        try await browser.click("#response form.respond-form select[name=kind] option[value=watch]")
        try await browser.click("#response form.respond-form button[type=submit]")
        try await browser.wait("the watch") { try await browser.text("#response").contains("Watchlisted 127.0.0.2") }

        // Close with a resolution.
        try await browser.click("#status-select option[value=closed]")
        try await browser.click("#resolution-select option[value=false-positive]")
        try await browser.click("#status-submit")
        try await browser.wait("the incident closed") { try await browser.text("#incident-status") == "Closed" }
        #expect(try await browser.text("#incident-resolution") == "False positive")
        let timeline = try await browser.text("#timeline")
        for step in ["Opened from alert", "Task 1", "done — blocked 127.0.0.2 at the proxy", "Note added", "Status new → closed (false-positive)"] {
            #expect(timeline.contains(step), "timeline lacks '\(step)': \(timeline)")
        }
        #expect(timeline.contains("ana"))
        try await png("incident-closed")
        try await browser.setWindowSize(width: 420, height: 900)
        try await png("incident-closed-narrow")
        try await browser.setWindowSize(width: 1280, height: 900)

        // The response page lists the block and the watchlist entry; the policies page says why.
        try await browser.open(h.baseURL + "/response")
        #expect(try await browser.text("#block-list").contains("127.0.0.2"))
        #expect(try await browser.text("#watch-list").contains("127.0.0.2"))
        try await png("response")
        try await browser.open(h.baseURL + "/response/policies")
        #expect(try await browser.text("#policy-D-01").contains("block for 10 min"))
        try await png("response-policies")

        // The event search links each event to its incident.
        try await browser.open(h.baseURL + "/activity?ip=127.0.0.2&action=LOGIN_FAILURE")
        #expect(try await browser.text("#event-list").contains("D-01"))
        try await png("events")

        let console = try await browser.consoleMessages()
        #expect(!console.contains { $0.contains("Content Security Policy") || $0.contains("Content-Security-Policy") }, "\(console)")
    }

    @Test("the dashboard shows a new attack as it happens, without a reload; the analyst opens its incident and lifts the block", arguments: TestDatabase.all)
    func liveDashboard(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let browser = try await WebDriver.start(http: h.http)
            do {
                try await Self.live(h, browser, db)
            } catch {
                if let png = try? await browser.screenshot() {
                    try? png.write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-browser-live-failure-\(db).png"))
                }
                await browser.quit()
                throw error
            }
            await browser.quit()
            // The same pages with scripts off: everything is there, as of the load.
            let plain = try await WebDriver.start(http: h.http, javaScript: false)
            do {
                try await Self.withoutScripts(h, plain, db)
            } catch {
                if let png = try? await plain.screenshot() {
                    try? png.write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-browser-nojs-failure-\(db).png"))
                }
                await plain.quit()
                throw error
            }
            await plain.quit()
        }
    }

    static func live(_ h: SecMonHarness, _ browser: WebDriver, _ db: TestDatabase) async throws {
        func png(_ name: String) async throws {
            try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-\(name)-\(db).png"))
        }
        try await h.createUser("ana", role: .analyst)
        try await browser.setWindowSize(width: 1280, height: 1000)
        try await browser.open(h.baseURL + "/login")
        try await browser.type("#username", "ana")
        try await browser.type("#password", "user-password-123")
        try await browser.click("#login")
        try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
        try await browser.wait("the live feed") { try await browser.text("#live-status") == "live" }
        #expect(try await browser.text("#open-incidents").contains("Nothing open"))

        // The attack, by the simulator's own code, while the page stays open.
        try await h.createUser("simuser", role: .viewer, password: "sim-password-123")
        let simulator = try Simulator(target: URL(string: h.baseURL)!, user: "simuser", password: "sim-password-123", allowRemote: false, http: h.http, requestTimeout: .seconds(60))
        _ = try await simulator.run(.bruteForce)
        _ = try await simulator.run(.apiFlood)
        // Only the script fills these: the page was not reloaded.
        try await browser.wait("the alert in the live list", timeout: 10) { try await browser.text("#live-alerts").contains("D-01") }
        try await browser.wait("the incident in the panels", timeout: 10) { try await browser.text("#open-incidents").contains("Brute force login") }
        try await browser.wait("the block in the panels", timeout: 10) { try await browser.text("#response-summary").contains("1 blocked") }
        #expect(try await browser.text("#live-events").contains("127.0.0.3"), "the flood's events, as they came")
        #expect(try await browser.currentURL() == h.baseURL + "/")
        try await png("dashboard-live")

        // Open the incident from the dashboard, and lift the block SecMon took by itself.
        try await browser.click("#open-incidents a[href^='/incidents/0']")
        try await browser.wait("the incident page") { try await browser.currentURL().contains("/incidents/0") }
        let title = try await browser.text("#incident-title")
        #expect(title.contains("Brute force login") || title.contains("API flood"))
        if !title.contains("Brute force login") {
            try await browser.open(h.baseURL + "/incidents?rule=D-01")
            try await browser.click("#incident-list tbody tr:first-child a")
            try await browser.wait("the D-01 incident") { try await browser.text("#incident-title").contains("Brute force login") }
        }
        try await browser.wait("the automatic block") { try await browser.text("#response").contains("policy of D-01") }
        try await browser.click("#response form[action$='/undo'] button[type=submit]")
        try await browser.wait("the block lifted") { try await browser.text("#timeline").contains("Unblocked 127.0.0.2") }
        #expect(try await ResponseTests.attacker(h, "127.0.0.2").get("/login").status == .ok)
        try await png("incident-unblocked")
        // The rules page, and the dashboard at a phone's width.
        try await browser.open(h.baseURL + "/rules")
        #expect(try await browser.text("#rule-D-01").contains("Brute force login"))
        try await png("rules")
        try await browser.setWindowSize(width: 420, height: 900)
        try await browser.open(h.baseURL + "/")
        try await png("dashboard-narrow")
        try await browser.open(h.baseURL + "/response")
        try await png("response-narrow")
        try await browser.setWindowSize(width: 1280, height: 1000)

        let console = try await browser.consoleMessages()
        #expect(!console.contains { $0.contains("Content Security Policy") || $0.contains("Content-Security-Policy") }, "\(console)")
    }

    static func withoutScripts(_ h: SecMonHarness, _ browser: WebDriver, _ db: TestDatabase) async throws {
        try await browser.open(h.baseURL + "/login")
        try await browser.type("#username", "ana")
        try await browser.type("#password", "user-password-123")
        try await browser.click("#login")
        try await browser.wait("the dashboard") { try await browser.currentURL() == h.baseURL + "/" }
        #expect(try await browser.text("#live-status").hasPrefix("loaded"), "the live part says when it was loaded")
        #expect(try await browser.text("#live-reload") == "Reload")
        #expect(try await browser.text("#open-incidents").contains("Brute force login"))
        #expect(try await browser.text("#chart-hour").contains("Last hour"))
        try await browser.screenshot().write(to: FileManager.default.temporaryDirectory.appendingPathComponent("secmon-dashboard-nojs-\(db).png"))
        for (path, marker, words) in [("/response", "#blocks", "Blocked sources"), ("/response/policies", "#policy-D-01", "D-01"),
                                      ("/incidents", "#incident-list", "Brute force login")] {
            try await browser.open(h.baseURL + path)
            #expect(try await browser.text(marker).contains(words), "\(path)")
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
        #expect(try await browser.text("h1").hasPrefix("Dashboard"))
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

        // The administrators' pages: playbooks (edited here), the audit trail, the alert list.
        try await browser.open(h.baseURL + "/admin/playbooks")
        #expect(try await browser.text("#playbook-brute-force").contains("D-01"))
        try await browser.type("#playbook-brute-force input[name=description]", " Edited in the browser.")
        try await browser.click("#playbook-brute-force button[type=submit]")
        try await browser.wait("the playbook saved") { try await browser.text("main").contains("Saved brute-force") }
        try png(await browser.screenshot(), "playbooks")
        // An API token, created on its page and shown once.
        try await browser.open(h.baseURL + "/admin/tokens")
        try await browser.type("#token-form input[name=name]", "ticket-sync")
        try await browser.click("#token-form button[type=submit]")
        try await browser.wait("the new token") { try await browser.text("main").contains("Copy it now") }
        #expect(try await browser.text("#new-token").hasPrefix("smt_"))
        #expect(try await browser.text("#token-list").contains("ticket-sync"))
        try png(await browser.screenshot(), "tokens")
        try await browser.open(h.baseURL + "/admin/audit")
        let audit = try await browser.text("#audit-list")
        for action in ["playbook.update", "rules.reload", "login.success", "user.password", "token.create"] { #expect(audit.contains(action), "\(action)") }
        try png(await browser.screenshot(), "audit")
        try await browser.setWindowSize(width: 420, height: 900)
        try png(await browser.screenshot(), "audit-narrow")
        try await browser.open(h.baseURL + "/alerts")
        try png(await browser.screenshot(), "alerts-narrow")
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
