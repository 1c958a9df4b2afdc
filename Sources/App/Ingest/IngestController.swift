import EventPipeline
import Foundation
import LogFormats
import SecurityModel
import Vapor

/// `POST /ingest`: another host sends its log lines (syslog, access, JSON lines, activity), one per
/// line of the body, with its ingest key (`Authorization: Bearer smi_…`). The key names the source
/// and the format; each line goes to live detection as the lines of a followed file do, and is
/// stored as an event. The answer counts what was taken and names each refused line by number.
///
/// A body over ``maxBodyBytes`` is refused whole (413). When detection's queue stays full, the
/// answer is 503 with `Retry-After` and the line to send again from: nothing is dropped silently.
struct IngestController {
    /// Largest body, in bytes.
    static let maxBodyBytes = 4 << 20
    /// Most refused lines named in an answer.
    static let maxRejectionsListed = 20

    struct Rejection: Content {
        var line: Int
        var reason: String
    }

    struct Answer: Content {
        var source: String
        var accepted: Int
        var rejected: Int
        var rejections: [Rejection]
        var resumeFromLine: Int?

        enum CodingKeys: String, CodingKey {
            case source, accepted, rejected, rejections, resumeFromLine = "resume_from_line"
        }
    }

    func register(_ routes: any RoutesBuilder) {
        // The key is checked by the handler: it is not a session or an API token, and does nothing else.
        routes.secured(.POST, "ingest", access: .anyone, body: .collect(maxSize: ByteCount(value: Self.maxBodyBytes)), use: ingest)
    }

    @Sendable func ingest(_ request: Request) async throws -> Response {
        guard let authorization = request.headers.first(name: .authorization), authorization.lowercased().hasPrefix("bearer ") else {
            throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"],
                        reason: "send the source's ingest key as 'Authorization: Bearer smi_…' (an administrator creates it on the Sources page)")
        }
        let key = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard let source = try await IngestKeyStore(database: try request.sqlDatabase()).find(key: key) else {
            throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\""], reason: "the ingest key is unknown or was revoked")
        }
        guard let intake = request.secmon.runtime.intake, let detection = request.secmon.runtime.detection else {
            throw Abort(.serviceUnavailable, reason: "live detection is off on this server (no rule pack): nothing would read the lines")
        }
        var answer = Answer(source: source.name, accepted: 0, rejected: 0, rejections: [], resumeFromLine: nil)
        var lastRejection: String?
        let bytes = request.body.data.map { Array($0.readableBytesView) } ?? []
        var events = LogLineEvents(format: source.format, rulesFields: detection.rules.fields, hostname: source.name)
        var number = 0
        var start = 0
        lines: while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let line = bytes[start..<end]
            start = end + 1
            number += 1
            guard let made = events.event(line: line) else { continue }
            switch made {
            case .failure(let rejection):
                answer.rejected += 1
                lastRejection = "line \(number): \(rejection.reason)"
                if answer.rejections.count < Self.maxRejectionsListed { answer.rejections.append(Rejection(line: number, reason: rejection.reason)) }
            case .success(var event):
                var waited = 0
                while !intake.offerStamped(&event) {
                    // Detection is behind: wait a little, then ask the sender to come back.
                    guard waited < 100, !intake.isFinished else {
                        answer.resumeFromLine = number
                        break lines
                    }
                    try await Task.sleep(for: .milliseconds(20))
                    waited += 1
                }
                answer.accepted += 1
                request.secmon.storeIngested(event)
            }
        }
        request.secmon.ingestCounters.record(source.name, accepted: answer.accepted, rejected: answer.rejected, lastRejection: lastRejection)
        let response = try await answer.encodeResponse(for: request)
        if answer.resumeFromLine != nil {
            response.status = .serviceUnavailable
            response.headers.replaceOrAdd(name: .retryAfter, value: "1")
        }
        return response
    }
}
