@testable import App
import Foundation
import SecurityModel
import SQLKit
import Testing

/// The indicators page: an administrator keeps H-02's `indicator_ips` list; a save is audited
/// and reloads the live rules at once, so a connection to a listed network raises H-02; a bad
/// line is refused by its number with the text kept; a change made by another node (straight
/// into the database) reaches the live rules within the check interval.
@Suite("Indicator lists", .serialized, .timeLimit(.minutes(10)))
struct IndicatorPagesTests {
    /// A connection this host opened, as the host sensors report it.
    static func connection(to address: String, image: String = "/tmp/.x/kworker") -> SecurityEvent {
        let now = Timestamp.now()
        return SecurityEvent(time: now, id: EventID.make(at: now), source: .networkConnection, fields: [
            .init("Image", .string(image)), .init("ProcessId", .int(4242)), .init("User", .string("www-data")),
            .init("Protocol", .string("tcp")), .init("Initiated", .string("true")), .init("SourceIp", .string("10.0.0.5")),
            .init("SourcePort", .int(50000)), .init("DestinationIp", .string(address)), .init("DestinationPort", .int(4444)),
            .init("DestinationIsIpv6", .string("false")), .init("Computer", .string("web1")),
        ], entities: [Entity(.host, "web1"), Entity(.ip, address)])
    }

    static func h02Alerts(_ h: SecMonHarness) async throws -> [AlertStore.Row] {
        try await AlertStore(database: h.app.db as! any SQLDatabase).all(rule: "H-02")
    }

    /// Sends connections to `address` until H-02 raises a new alert or `seconds` pass.
    static func expectAlert(_ h: SecMonHarness, sending address: String, within seconds: Double = 8) async throws -> Bool {
        let before = try await h02Alerts(h).count
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            var event = connection(to: address)
            _ = h.app.secmon.runtime.intake?.submitStamped(&event)
            try await h.flush()
            if try await h02Alerts(h).count > before { return true }
            try await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        return false
    }

    /// Sends one connection to `address` and waits: whether H-02 stayed quiet.
    static func expectQuiet(_ h: SecMonHarness, sending address: String) async throws -> Bool {
        let before = try await h02Alerts(h).count
        var event = connection(to: address)
        _ = h.app.secmon.runtime.intake?.submitStamped(&event)
        try await h.flush()
        try await Task.sleep(for: .milliseconds(500))
        return try await h02Alerts(h).count == before
    }

    @Test("admins keep the list; saving reloads the rules and H-02 fires; bad lines are refused by number", arguments: TestDatabase.all)
    func lists(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.indicatorCheckSeconds = 0.3 }) { h in
            let admin = try await h.loggedIn(as: .admin)
            // Before any list: the page says H-02 waits for one, and the rule is quiet.
            let empty = try await admin.get("/indicators")
            #expect(empty.status == .ok && empty.body.contains("id=\"missing-indicator_ips\"") && empty.body.contains("H-02"))
            #expect(h.app.secmon.runtime.detection?.rules.placeholders["indicator_ips"] == ["H-02"])
            #expect(try await Self.expectQuiet(h, sending: "198.51.100.9"))
            #expect(try await Self.h02Alerts(h).isEmpty)

            // A bad network is refused by line, and the text comes back in the form.
            let bad = try await admin.postForm("/indicators", ["name": "indicator_ips", "description": "From incident 42",
                                                               "entries": "203.0.113.66\n198.51.100.0/33\n"])
            #expect(bad.status == .badRequest)
            #expect(bad.body.contains("line 2: &#39;198.51.100.0/33&#39; is not a network") || bad.body.contains("line 2: '198.51.100.0/33' is not a network"), "\(bad.body.prefix(2000))")
            #expect(bad.body.contains("198.51.100.0/33</textarea>") || bad.body.contains("198.51.100.0/33\n</textarea>"))

            // Saved (with the CRLF line breaks browsers send): audited, the rules reloaded, and a connection into the network fires H-02.
            let saved = try await admin.postForm("/indicators", ["name": "indicator_ips", "description": "From incident 42",
                                                                 "entries": "203.0.113.66  # C2\r\n198.51.100.0/24\r\n203.0.113.66\r\n# old: 192.0.2.1\r\n"])
            #expect(saved.status == .ok)
            #expect(saved.body.contains("indicator_ips saved: 2 entries (2 added, 0 removed, 1 duplicate line dropped)"), "\(saved.body.prefix(3000))")
            #expect(saved.body.contains("The live rules were reloaded"))
            #expect(saved.body.contains("id=\"list-indicator_ips\"") && !saved.body.contains("id=\"missing-indicator_ips\""))
            #expect(try await Self.expectAlert(h, sending: "198.51.100.9"), "H-02 did not fire after the list was saved")
            let audit = try await AuditTrail.entries({ var f = AuditTrail.Filter(); f.action = "indicators."; return f }(), on: h.app.db as! any SQLDatabase)
            #expect(audit.count == 1 && audit.first?.target == "indicators:indicator_ips")
            #expect(audit.first?.after == "2 entries; added 2: 198.51.100.0/24 203.0.113.66")

            // Analysts read and download; they change nothing. Viewers do not see the lists.
            let analyst = try await h.loggedIn(as: .analyst)
            let read = try await analyst.get("/indicators")
            #expect(read.status == .ok && read.body.contains("198.51.100.0/24") && !read.body.contains("<textarea name=\"entries\""))
            #expect(read.body.contains("203.0.113.66  # C2\n198.51.100.0/24"), "the list is kept as written, comments included")
            let yaml = try await analyst.get("/indicators.yml")
            #expect(yaml.status == .ok && yaml.body.contains("indicator_ips:\n  - '203.0.113.66'\n  - '198.51.100.0/24'"))
            #expect(try await analyst.postForm("/indicators", ["name": "x", "entries": "1.2.3.4"]).status == .forbidden)
            let viewer = try await h.loggedIn(as: .viewer)
            #expect(try await viewer.get("/indicators").status == .forbidden)

            // Another node's change (straight into the database) reaches the rules within the check interval.
            #expect(try await Self.expectQuiet(h, sending: "192.0.2.77"))
            _ = try await IndicatorListStore(database: h.app.db as! any SQLDatabase).save(
                name: "indicator_ips", description: "", text: "192.0.2.77", by: .secmon, on: h.app.db)
            #expect(try await Self.expectAlert(h, sending: "192.0.2.77"), "the other node's change did not reload the rules")

            // Deleted: the rule matches nothing again (192.0.2.79 was listed until then).
            #expect(try await admin.postForm("/indicators", ["name": "indicator_ips", "entries": "192.0.2.79"]).status == .ok)
            let deleted = try await admin.postForm("/indicators/indicator_ips/delete", [:])
            #expect(deleted.status == .ok && deleted.body.contains("indicator_ips deleted"))
            #expect(try await Self.expectQuiet(h, sending: "192.0.2.79"))
            #expect(try await admin.postForm("/indicators/indicator_ips/delete", [:]).status == .notFound)
            #expect(try await admin.postForm("/indicators", ["name": "bad name", "entries": "x"]).status == .badRequest)
        }
    }
}
