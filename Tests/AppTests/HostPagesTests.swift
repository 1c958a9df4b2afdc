@testable import App
import Foundation
import HostSensors
import SecurityModel
import SQLKit
import Testing

/// The host pages, the host API and the host history, with the sensors reading this machine:
/// a process the test starts is listed, seen starting, stored, detected (H-08) and opened as an
/// incident; answers match the OpenAPI schemas; the metric history is downsampled and expired.
@Suite("Host pages and API", .serialized, .timeLimit(.minutes(10)))
struct HostPagesTests {
    static func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test("a process the test starts: listed, its start stored and detected, an incident opened; pages and API answers", arguments: TestDatabase.all)
    func liveHost(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.hostSensors = HostSensorsSupport.configuration() }) { h in
            try await HostSensorsSupport.waitForFirstReading(h)
            let marker = "secmon-host-\(UUID().uuidString.prefix(8))"
            // An encoded payload decoded into a shell (H-08), harmless: it echoes.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/sh")
            // It stays until its input closes (the test process ignores SIGTERM, and so would the
            // shell it starts).
            child.arguments = ["-c", "echo ZWNobyBoaQ== | base64 -d | sh >/dev/null; read line", marker]
            let input = Pipe()
            child.standardInput = input
            try child.run()
            defer {
                try? input.fileHandleForWriting.close()
                child.waitUntilExit()
            }
            let listed = try await Self.eventually(5) { h.app.secmon.host?.monitor.latest?.processes.contains { $0.commandLine.contains(marker) } == true }
            #expect(listed)

            let analyst = try await h.loggedIn(as: .analyst)
            let processes = try await analyst.get("/host/processes?q=\(marker)")
            #expect(processes.status == .ok)
            #expect(processes.body.contains(marker) && processes.body.contains("base64 -d | sh"))
            let tree = try await analyst.get("/host/processes?view=tree&sort=pid")
            #expect(tree.status == .ok && tree.body.contains("id=\"process-list\""))
            #expect(try await analyst.get("/host/processes?sort=size").status == .badRequest)
            let system = try await analyst.get("/host?range=24h")
            #expect(system.status == .ok)
            #expect(system.body.contains("id=\"chart-cpu\"") && system.body.contains("id=\"host-disks\"") && system.body.contains("process connector"))
            #expect(try await analyst.get("/host?range=1y").status == .badRequest)
            // The harness's own server listens: the network page names the port and its process.
            let port = h.baseURL.split(separator: ":").last.map(String.init) ?? ""
            let network = try await analyst.get("/host/network")
            #expect(network.status == .ok && network.body.contains(":\(port)"))
            let dashboard = try await analyst.get("/")
            #expect(dashboard.body.contains("id=\"host-panel\""))

            // The start is stored, detected by H-08, and opened as an incident.
            let sql = h.app.db as! any SQLDatabase
            let stored = try await Self.eventually(10) {
                try await HostEventStore(database: sql).recent(categories: ["process_creation"], limit: 500).contains { $0.summary.contains(marker) }
            }
            #expect(stored)
            let detected = try await Self.eventually(10) {
                try await sql.raw("SELECT COUNT(*) AS n FROM incidents WHERE rule = 'H-08'").first()?.decode(column: "n", as: Int.self) ?? 0 > 0
            }
            #expect(detected)
            // The incident shows the process start among its evidence.
            let incident = try await sql.raw("SELECT id FROM incidents WHERE rule = 'H-08'").first()?.decode(column: "id", as: String.self)
            let page = try await analyst.get("/incidents/\(incident ?? "none")")
            #expect(page.status == .ok && page.body.contains("id=\"host-evidence\"") && page.body.contains(marker), "\(page.body.prefix(500))")

            // The API, checked against the document's schemas.
            let token = try await APIv1Tests.token(h, .analyst)
            let schemas = try await APIv1Tests.schemas(h, token: token)
            for path in ["/api/v1/host/system", "/api/v1/host/metrics?range=7d", "/api/v1/host/processes?sort=memory&limit=5000",
                         "/api/v1/host/sockets?state=listening", "/api/v1/host/events?category=process_creation&limit=1000"] {
                let answer = try await APIv1Tests.call(h, .GET, path, token: token)
                #expect(answer.status == .ok, "\(path): \(answer.body.prefix(300))")
                try schemas.expect(answer.body, "GET", String(path.split(separator: "?")[0]))
            }
            let found = try await APIv1Tests.call(h, .GET, "/api/v1/host/processes?q=\(marker)", token: token)
            let total = try found.json()["total"] as? Int
            #expect(total ?? 0 >= 1)
            let events = try await APIv1Tests.call(h, .GET, "/api/v1/host/events?category=process_creation&limit=1000", token: token)
            #expect(events.body.contains(marker) && events.body.contains("\"Image\""))
            let bad = try await APIv1Tests.call(h, .GET, "/api/v1/host/events?category=kernel", token: token)
            #expect(bad.status == .badRequest && bad.body.contains("process_creation"))
            // A viewer sees the system, not the processes.
            let viewer = try await h.loggedIn(as: .viewer)
            #expect(try await viewer.get("/host").status == .ok)
            #expect(try await viewer.get("/host/processes").status == .forbidden)
            // The host log has the same events, one JSON line each.
            let hostLog = try String(contentsOfFile: h.config.hostLogPath, encoding: .utf8)
            #expect(hostLog.contains(marker) && hostLog.contains("\"category\": \"process_creation\""))
        }
    }

    @Test("with the sensors off: the pages say how to turn them on, the API answers 503 with the same")
    func sensorsOff() async throws {
        try await SecMonHarness.with(.sqlite) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            for path in ["/host", "/host/processes", "/host/network"] {
                let page = try await analyst.get(path)
                #expect(page.status == .ok && page.body.contains("--host-sensors on"), "\(path)")
            }
            let token = try await APIv1Tests.token(h, .analyst)
            let answer = try await APIv1Tests.call(h, .GET, "/api/v1/host/system", token: token)
            #expect(answer.status == .serviceUnavailable && answer.body.contains("--host-sensors on"))
            #expect(!(try await analyst.get("/").body.contains("id=\"host-panel\"")))
        }
    }

    @Test("metric history: minutes older than a day merged into 15-minute rows, rows past the retention deleted", arguments: TestDatabase.all)
    func history(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let store = HostMetricStore(database: h.app.db as! any SQLDatabase)
            let now = Timestamp(iso8601: "2026-12-10T12:00:00Z")!
            let minute: Int64 = 60_000_000
            func point(_ time: Int64, cpu: Double) -> MetricPoint {
                MetricPoint(time: time, seconds: 60, samples: 12, cpuPercent: cpu, cpuPeakPercent: cpu + 5, memoryPercent: 50, swapPercent: 0,
                            diskPercent: 30, load1: 1, receivedBytesPerSecond: 100, sentBytesPerSecond: 50, processes: 80)
            }
            // 30 minutes starting 26 h ago (two whole 15-minute stretches), 10 minutes an hour ago,
            // and one minute 8 days ago.
            let old = Timestamp(iso8601: "2026-12-09T10:00:00Z")!.microseconds
            for index in 0..<30 { try await store.insert(point(old + Int64(index) * minute, cpu: Double(index)), computer: "web1") }
            let recent = now.microseconds - 3_600_000_000
            for index in 0..<10 { try await store.insert(point(recent + Int64(index) * minute, cpu: 10), computer: "web1") }
            try await store.insert(point(now.microseconds - 8 * 86_400_000_000, cpu: 1), computer: "web1")

            let done = try await store.maintain(now: now, retentionSeconds: 7 * 86_400)
            #expect(done == HostMetricStore.Maintenance(merged: 30, created: 2, deleted: 1))
            let points = try await store.points(computer: "web1", since: Timestamp(microseconds: 0))
            #expect(points.count == 12)
            let merged = points.filter { $0.seconds == 900 }
            #expect(merged.map(\.time) == [old, old + 15 * minute])
            #expect(merged.first?.cpuPercent == 7 && merged.last?.cpuPercent == 22)  // the averages of 0...14 and 15...29
            #expect(merged.first?.cpuPeakPercent == 19 && merged.first?.samples == 180)
            // A second pass changes nothing.
            #expect(try await store.maintain(now: now, retentionSeconds: 7 * 86_400) == HostMetricStore.Maintenance())
        }
    }
}
