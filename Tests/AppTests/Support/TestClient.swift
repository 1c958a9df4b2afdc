import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// One browser-like client over real HTTP: keeps cookies, finds CSRF tokens in pages, never follows redirects.
final class TestClient: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: String

        var location: String? { headers.first(name: "location") }

        /// The value of the first `<input name="csrf_token">` or `<meta name="csrf-token">` in the page.
        var csrfToken: String? {
            for pattern in [#"name="csrf_token" value="([^"]+)""#, #"name="csrf-token" content="([^"]+)""#] {
                if let range = body.range(of: pattern, options: .regularExpression) {
                    let match = String(body[range])
                    let parts = match.split(separator: "\"", omittingEmptySubsequences: false)
                    return parts.count > 3 ? String(parts[3]) : nil
                }
            }
            return nil
        }

        func json() throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
        }
    }

    let http: HTTPClient
    let baseURL: String
    private let cookies = Mutex<[String: String]>([:])
    let userAgent = Mutex("SecMonTests/1.0")
    /// The loopback address to send from (nil: the default, 127.0.0.1).
    let source = Mutex<String?>(nil)

    init(http: HTTPClient, baseURL: String) {
        self.http = http
        self.baseURL = baseURL
    }

    /// A cookie's current value.
    func cookie(_ name: String) -> String? { cookies.withLock { $0[name] } }

    /// Replaces a cookie (to replay an old session, say).
    func setCookie(_ name: String, _ value: String?) { cookies.withLock { $0[name] = value } }

    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.localAddress = source.withLock { $0 }
        request.headers.add(name: "User-Agent", value: userAgent.withLock { $0 })
        let cookieHeader = cookies.withLock { $0.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if !cookieHeader.isEmpty { request.headers.add(name: "Cookie", value: cookieHeader) }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        for header in response.headers["set-cookie"] {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<eq]), value = String(pair[pair.index(after: eq)...])
            let expired = header.contains("Max-Age=0")
            cookies.withLock { $0[name] = expired || value.isEmpty ? nil : value }
        }
        return Response(status: response.status, headers: response.headers, body: String(buffer: bytes))
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Response {
        try await send(.GET, path, headers: headers)
    }

    /// Posts a form; adds this session's CSRF token unless `csrf` is false or the form has one.
    func postForm(_ path: String, _ fields: [String: String], csrf: Bool = true, headers: [(String, String)] = []) async throws -> Response {
        var fields = fields
        if csrf, fields["csrf_token"] == nil { fields["csrf_token"] = try await sessionCSRFToken() }
        let body = fields.map { "\(TestClient.encode($0.key))=\(TestClient.encode($0.value))" }.joined(separator: "&")
        return try await send(.POST, path, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: body)
    }

    /// Loads the login page (for its CSRF cookie and token) and posts the credentials.
    @discardableResult
    func login(_ username: String, _ password: String) async throws -> Response {
        let page = try await get("/login")
        let token = try #require(page.csrfToken, "no CSRF token on the login page")
        return try await postForm("/login", ["username": username, "password": password, "csrf_token": token], csrf: false)
    }

    /// The logged-in session's CSRF token, read from a page that every logged-in user may see.
    func sessionCSRFToken() async throws -> String {
        let page = try await get("/account/password")
        return try #require(page.csrfToken, "no CSRF token: not logged in? status \(page.status)")
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? s
    }
}
