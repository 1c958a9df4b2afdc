@testable import App
import Foundation
import NIOHTTP1
import SQLKit
import Testing

// Under a minute alone; beside the whole suite on a loaded two-core machine, over three.
@Suite("Concurrency", .timeLimit(.minutes(8)))
struct ConcurrencyTests {
    @Test("thousands of concurrent requests give exactly as many well-formed lines and rows", arguments: TestDatabase.all)
    func concurrentRequests(db: TestDatabase) async throws {
        try await SecMonHarness.with(db) { h in
            let clients = try await withThrowingTaskGroup(of: TestClient.self) { group in
                for _ in 0..<8 { group.addTask { try await h.loggedIn(as: .viewer) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let before = try await h.logLines().count
            let requests = 3000
            let workers = 64
            try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var ok = 0
                        var index = worker
                        while index < requests {
                            let client = clients[index % clients.count]
                            let path = index % 3 == 0 ? "/healthz" : "/api/status"
                            if try await client.get(path).status == .ok { ok += 1 }
                            index += workers
                        }
                        return ok
                    }
                }
                let ok = try await group.reduce(0, +)
                #expect(ok == requests)
            }
            let lines = try await h.logLines()
            #expect(lines.count == before + requests)
            var ids = Set<String>()
            for line in lines {
                let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "torn line: \(line.prefix(200))")
                ids.insert(try #require(object["event_id"] as? String))
            }
            #expect(ids.count == lines.count, "event ids are unique")
            #expect(try await h.eventRows(limit: 1).count == 1)
            let stored = try await EventStore(database: h.app.db as! any SQLDatabase).count()
            #expect(stored == lines.count)
            let stats = h.app.secmon.recorder.rows.stats
            #expect(stats.dropped == 0)
            #expect(stats.batches < stats.written, "rows are written in batches")
        }
    }
}
