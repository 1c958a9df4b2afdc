import Incidents
import Vapor

/// Turns every error into a response: JSON (`{"error": true, "status": 400, "reason": "…"}`) for the
/// API, an HTML page otherwise. Client errors keep their reason; server errors are logged with
/// their detail and shown without it. The one place where errors become HTTP answers.
struct ErrorRenderer: Sendable {
    struct ErrorBody: Content {
        var error: Bool
        var status: Int
        var reason: String
    }

    struct ErrorContext: Encodable {
        var title: String
        var status: Int
        var reason: String
        var user: LayoutUser?
    }

    func response(for error: any Error, request: Request) async -> Response {
        let status: HTTPResponseStatus
        let reason: String
        var headers = HTTPHeaders()
        switch error {
        case let abort as any AbortError:
            status = abort.status
            reason = abort.status == .notFound && abort.reason == "Not Found" ? "There is no page at \(request.url.path)." : abort.reason
            headers = abort.headers
            if status.code >= 500 {
                request.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.url.path)"])
            }
        case let decoding as DecodingError:
            status = .badRequest
            reason = ErrorRenderer.describe(decoding)
        case let refusal as UserService.Refusal:
            status = .badRequest
            reason = refusal.message
        case let refusal as IncidentRefusal:
            status = refusal.httpStatus
            reason = "\(refusal.field): \(refusal.reason)"
        case let strict as StrictBodyError:
            status = .badRequest
            reason = strict.description
        case is PasswordHasher.Busy:
            status = .tooManyRequests
            reason = "Too many logins are being checked right now; try again in a moment."
            headers.replaceOrAdd(name: .retryAfter, value: "1")
        default:
            status = .internalServerError
            reason = "Something went wrong on the server; the error was logged."
            request.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.url.path)"])
        }
        let response: Response
        if request.url.path.hasPrefix("/api/v1/") {
            response = Self.problem(status: status, detail: reason, error: error, instance: request.url.path)
        } else if request.wantsJSON || request.method != .GET {
            if !request.wantsJSON, let page = try? await page(status: status, reason: reason, request: request) {
                response = page
            } else {
                response = Response(status: status)
                try? response.content.encode(ErrorBody(error: true, status: Int(status.code), reason: reason))
            }
        } else if let page = try? await page(status: status, reason: reason, request: request) {
            response = page
        } else {
            response = Response(status: status, body: .init(string: "\(status.code) \(reason)\n"))
            response.headers.contentType = .plainText
        }
        for (name, value) in headers where name.lowercased() != "content-type" && name.lowercased() != "content-length" {
            response.headers.replaceOrAdd(name: name, value: value)
        }
        return response
    }

    /// An RFC 9457 problem document (`application/problem+json`): `type` names the kind of problem
    /// (`about:blank` when the status says it all), `title` its short name, `detail` what happened
    /// and how to fix it, `instance` the path, and `field` (an extension member) the parameter or
    /// body field at fault when there is one.
    static func problem(status: HTTPResponseStatus, detail: String, error: any Error, instance: String) -> Response {
        var body: [String: Any] = ["title": status.reasonPhrase, "status": Int(status.code), "detail": detail, "instance": instance,
                                   "type": "about:blank"]
        if let refusal = error as? IncidentRefusal {
            body["field"] = refusal.field
            body["type"] = "urn:secmon:problem:" + (refusal.kind == .conflict ? (refusal.field == "version" ? "stale-version" : "conflict")
                                                      : refusal.kind == .notFound ? "not-found" : "invalid-value")
        } else if error is DecodingError || error is StrictBodyError {
            body["type"] = "urn:secmon:problem:invalid-body"
            if let strict = error as? StrictBodyError { body["field"] = strict.field }
        } else if status == .unauthorized {
            body["type"] = "urn:secmon:problem:unauthenticated"
        } else if status == .forbidden {
            body["type"] = "urn:secmon:problem:forbidden"
        }
        let json = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        let response = Response(status: status, body: .init(data: json))
        response.headers.replaceOrAdd(name: .contentType, value: "application/problem+json")
        return response
    }

    private func page(status: HTTPResponseStatus, reason: String, request: Request) async throws -> Response {
        let context = ErrorContext(
            title: "\(status.code) \(status.reasonPhrase)", status: Int(status.code), reason: reason,
            user: request.principal.map(LayoutUser.init)
        )
        let response = try await request.view.render("error", context).encodeResponse(for: request)
        response.status = status
        return response
    }

    /// A decoding error in words: which field, what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "the body" : "field '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.map(\.stringValue)
            return "Missing field '\((parent + [key.stringValue]).joined(separator: "."))'."
        case .typeMismatch(let type, let context):
            return "Wrong type for \(path(context)): expected \(type)."
        case .valueNotFound(let type, let context):
            return "Missing value for \(path(context)): expected \(type)."
        case .dataCorrupted(let context):
            return "Malformed \(path(context)): \(context.debugDescription)"
        @unknown default:
            return "Malformed request body."
        }
    }
}
