@testable import App
import AsyncHTTPClient
import FileInspection
import Foundation
import Testing
import Vapor

/// The optional online reputation lookup, against a stand-in for VirusTotal's API v3 on a
/// loopback port (the real service is not reachable from here, and needs a key): off without a
/// key (not one request), the SHA-256 alone is sent with the key, the answers weigh as
/// documented, and a refusal, a quota, a slow or broken service are notes, never failed scans.
@Suite("Reputation lookup", .timeLimit(.minutes(5)))
struct ReputationTests {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
    static let eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

    /// What the stand-in service saw.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [String] = []
        func add(_ path: String) { lock.withLock { paths.append(path) } }
        var all: [String] { lock.withLock { paths } }
    }

    static func stats(malicious: Int, suspicious: Int, undetected: Int) -> String {
        #"{"data":{"id":"x","type":"file","attributes":{"meaningful_name":"f","last_analysis_stats":{"# +
            #""malicious":\#(malicious),"suspicious":\#(suspicious),"undetected":\#(undetected),"harmless":0,"timeout":0,"# +
            #""confirmed-timeout":0,"failure":0,"type-unsupported":2}}}}"#
    }

    /// Runs `body` with the base URL of a stand-in service: EICAR is known and malicious, a hash
    /// starting with `00` is rate-limited, `11` answers slowly, `22` answers garbage, others are
    /// unknown; a wrong key is refused.
    static func withService(_ body: (String, Seen) async throws -> Void) async throws {
        let seen = Seen()
        let service = try await Application.make(.testing)
        service.get("api", "v3", "files", ":hash") { request async throws -> Response in
            seen.add(request.url.path + (request.url.query.map { "?" + $0 } ?? "") + " key=" + (request.headers.first(name: "x-apikey") ?? "-"))
            guard request.headers.first(name: "x-apikey") == "test-key" else {
                return Response(status: .unauthorized, body: .init(string: #"{"error":{"code":"WrongCredentialsError"}}"#))
            }
            let hash = request.parameters.get("hash") ?? ""
            switch hash {
            case eicarSHA256: return Response(status: .ok, body: .init(string: stats(malicious: 61, suspicious: 1, undetected: 8)))
            case _ where hash.hasPrefix("00"): return Response(status: .tooManyRequests)
            case _ where hash.hasPrefix("11"):
                try await Task.sleep(for: .seconds(3))
                return Response(status: .ok, body: .init(string: stats(malicious: 0, suspicious: 0, undetected: 70)))
            case _ where hash.hasPrefix("22"): return Response(status: .ok, body: .init(string: "<html>maintenance</html>"))
            default: return Response(status: .notFound, body: .init(string: #"{"error":{"code":"NotFoundError"}}"#))
            }
        }
        var failure: (any Error)?
        do {
            try await service.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = service.http.server.shared.localAddress?.port ?? 0
            try await body("http://127.0.0.1:\(port)", seen)
        } catch { failure = error }
        await service.server.shutdown()
        try? await service.asyncShutdown()
        if let failure { throw failure }
    }

    @Test("the answers weigh as documented: known and flagged, known and clean, unknown, refused, quota, slow, garbage")
    func answers() async throws {
        try await Self.withService { base, seen in
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            defer { _ = http.shutdown() }
            // A generous timeout (a loaded machine answers slowly); one second for the slow service.
            var settings = ReputationLookup.Settings(baseURL: base, apiKey: "test-key", timeoutSeconds: 30)
            let lookup = ReputationLookup(settings: settings, http: http)
            var impatient = settings
            impatient.timeoutSeconds = 1
            let flagged = await lookup.reason(sha256: Self.eicarSHA256)
            #expect(flagged == ScanReason(code: "reputation", weight: .malicious, detail: "VirusTotal: 61 of 72 engines call this file malicious, 1 suspicious"))
            let unknown = await lookup.reason(sha256: String(repeating: "ab", count: 32))
            #expect(unknown.weight == .clean && unknown.detail == "VirusTotal has never seen this file")
            let quota = await lookup.reason(sha256: "00" + String(repeating: "a", count: 62))
            #expect(quota.code == "reputation-unavailable" && quota.weight == .clean && quota.detail.contains("HTTP 429"))
            let slow = await ReputationLookup(settings: impatient, http: http).reason(sha256: "11" + String(repeating: "a", count: 62))
            #expect(slow.code == "reputation-unavailable" && slow.detail.contains("no answer within 1 s"), "\(slow.detail)")
            let garbage = await lookup.reason(sha256: "22" + String(repeating: "a", count: 62))
            #expect(garbage.code == "reputation-unavailable" && garbage.detail.contains("not a file report"))
            // Not a hash: nothing is sent.
            let before = seen.all.count
            let bad = await lookup.reason(sha256: "../../etc/passwd")
            #expect(bad.code == "reputation-unavailable" && seen.all.count == before)
            settings.apiKey = "wrong"
            let refused = await ReputationLookup(settings: settings, http: http).reason(sha256: Self.eicarSHA256)
            #expect(refused.code == "reputation-unavailable" && refused.detail.contains("refused the API key"))
            // Only the path with the hash, and the key as a header.
            #expect(seen.all.first == "/api/v3/files/\(Self.eicarSHA256) key=test-key")
            #expect(seen.all.allSatisfy { !$0.contains("?") })
        }
    }

    @Test("off without a key: a scan in the server sends nothing; with one, the reason joins the verdict and the page says so")
    func inTheServer() async throws {
        let dir = try TempFiles()
        let eicar = try dir.write("eicar.com", Self.eicar)
        let notes = try dir.write("notes.txt", "plain words\n")
        try await Self.withService { base, seen in
            try await SecMonHarness.with(.sqlite) { h in
                #expect(h.app.secmon.fileScans.reputationStatus.hasPrefix("off"))
                _ = try await h.app.secmon.fileScans.scan(path: eicar, name: "eicar.com", source: "path", user: "admin")
                #expect(seen.all.isEmpty)
            }
            try await SecMonHarness.with(.sqlite, adjust: { $0.reputation = .init(baseURL: base, apiKey: "test-key") }) { h in
                let scans = h.app.secmon.fileScans
                #expect(scans.reputationStatus == "on: VirusTotal at 127.0.0.1 (only the SHA-256 is sent)")
                let flagged = try await scans.scan(path: eicar, name: "eicar.com", source: "path", user: "admin")
                #expect(flagged.report.reasons.contains { $0.code == "reputation" && $0.weight == .malicious })
                let clean = try await scans.scan(path: notes, name: "notes.txt", source: "path", user: "admin")
                #expect(clean.report.verdict == .clean && clean.report.reasons.contains { $0.detail == "VirusTotal has never seen this file" })
                #expect(seen.all.count == 2)
                let client = try await h.loggedIn(as: .analyst)
                let page = try await client.get("/files/scans")
                #expect(page.body.contains("Reputation lookup on: VirusTotal at 127.0.0.1"))
                let detail = try await client.get("/files/scans/\(clean.id)")
                #expect(detail.body.contains("VirusTotal has never seen this file"))
            }
        }
    }

    @Test("settings come from the environment: off without a key, HTTPS only (HTTP to loopback), a key file")
    func settings() throws {
        #expect(try ReputationLookup.Settings.from(environment: [:]) == nil)
        #expect(try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY": "  "]) == nil)
        let plain = try #require(try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY": "k1"]))
        #expect(plain.baseURL == "https://www.virustotal.com" && plain.apiKey == "k1")
        let local = try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY": "k1", "SECMON_REPUTATION_URL": "http://127.0.0.1:9/"])
        #expect(local?.baseURL == "http://127.0.0.1:9")
        #expect(throws: StartupError.self) {
            try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY": "k1", "SECMON_REPUTATION_URL": "http://vt.example.com"])
        }
        #expect(throws: StartupError.self) { try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY": "a key with spaces"]) }
        let dir = try TempFiles()
        let file = try dir.write("vt.key", "from-file\n")
        #expect(try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY_FILE": file])?.apiKey == "from-file")
        #expect(throws: StartupError.self) { try ReputationLookup.Settings.from(environment: ["SECMON_REPUTATION_KEY_FILE": dir.path + "/missing"]) }
    }
}

/// A temporary directory of small text files, removed with the value.
final class TempFiles {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-files-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        return path + "/" + name
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
