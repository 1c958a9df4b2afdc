import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Plays ``Scenario``s against a running SecMon over real HTTP, each attacker from its own source
/// address (Linux routes all of 127/8 to the loopback interface; binding needs no privileges).
///
/// Only loopback targets unless `allowRemote` (a simulation is an attack). Every request has a
/// timeout, and the steps fix how many are sent.
public struct Simulator: Sendable {
    /// Why a simulation could not run or went wrong.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// What one scenario did.
    public struct Report: Sendable {
        public var scenario: Scenario
        public var requests: Int
        /// Status codes seen, in order.
        public var statuses: [UInt]

        /// Requests SecMon's active response refused: 403 (blocked) and 429 (rate-limited or throttled).
        public var refused: Int { statuses.filter { $0 == 403 || $0 == 429 }.count }
    }

    public let target: URL
    public let user: String?
    public let password: String?
    /// Send from the scenario's loopback address (true for a loopback target).
    public let bindSource: Bool
    /// How long one request may take (10 s by default).
    public let requestTimeout: TimeAmount
    let http: HTTPClient

    /// A simulator for `target` (`http://127.0.0.1:8080`). Throws for a non-loopback target unless
    /// `allowRemote`.
    public init(target: URL, user: String?, password: String?, allowRemote: Bool, http: HTTPClient, requestTimeout: TimeAmount = .seconds(10)) throws {
        guard let scheme = target.scheme, scheme == "http" || scheme == "https", let host = target.host else {
            throw Failure("--target must be an http(s) URL such as http://127.0.0.1:8080, not '\(target.absoluteString)'")
        }
        let loopback = Self.isLoopback(host)
        guard loopback || allowRemote else {
            throw Failure("\(host) is not a loopback address; a simulation sends attack traffic, so it only targets this machine unless you pass --allow-remote")
        }
        self.target = target
        self.user = user
        self.password = password
        self.bindSource = loopback && host != "::1" && host != "[::1]"
        self.http = http
        self.requestTimeout = requestTimeout
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Plays `scenario`, calling `progress` after each request.
    public func run(_ scenario: Scenario, progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        if scenario.needsAccount, user == nil || password == nil {
            throw Failure("\(scenario.name) logs an account in and out: pass --user NAME and the password in SECMON_SIMULATE_PASSWORD (or --password-stdin)")
        }
        let session = Session(simulator: self, source: bindSource ? scenario.source : nil)
        for step in scenario.steps {
            switch step {
            case .failedLogin(let name):
                try await session.login(name, "wrong-\(UUID().uuidString.prefix(8))", expectSuccess: false)
            case .login:
                try await session.login(user ?? "", password ?? "", expectSuccess: true)
            case .logout:
                try await session.logout()
            case .get(let path):
                _ = try await session.send(.GET, path)
            }
            progress(step.description)
        }
        return Report(scenario: scenario, requests: session.statuses.count, statuses: session.statuses)
    }

    /// One attacker: its source address and cookie jar.
    final class Session: @unchecked Sendable {
        let simulator: Simulator
        let source: String?
        var cookies: [String: String] = [:]
        var statuses: [UInt] = []
        var lastBody = ""

        init(simulator: Simulator, source: String?) {
            self.simulator = simulator
            self.source = source
        }

        func send(_ method: HTTPMethod, _ path: String, form: [String: String]? = nil) async throws -> (status: UInt, location: String?) {
            var request = HTTPClientRequest(url: simulator.target.absoluteString.trimmingCharacters(in: ["/"]) + path)
            request.method = method
            request.localAddress = source
            request.headers.add(name: "User-Agent", value: "secmon-simulate/1.0")
            let origin = simulator.target.absoluteString.trimmingCharacters(in: ["/"])
            if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")) }
            if let form {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.headers.add(name: "Origin", value: origin)
                let body = form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.sorted().joined(separator: "&")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response: HTTPClientResponse
            do {
                response = try await simulator.http.execute(request, timeout: simulator.requestTimeout)
            } catch {
                throw Failure("\(method) \(path) from \(source ?? "the default address") failed: \(error). Is SecMon running at \(origin)?")
            }
            let body = try await response.body.collect(upTo: 4 << 20)
            lastBody = String(buffer: body)
            for header in response.headers["set-cookie"] {
                let pair = header.split(separator: ";").first.map(String.init) ?? ""
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<eq]), value = String(pair[pair.index(after: eq)...])
                if header.contains("Max-Age=0") || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
            }
            statuses.append(response.status.code)
            return (response.status.code, response.headers.first(name: "location"))
        }

        func login(_ name: String, _ password: String, expectSuccess: Bool) async throws {
            let (page, _) = try await send(.GET, "/login")
            let token = Self.csrfToken(in: lastBody)
            // A blocked or rate-limited attacker gets no form; it keeps trying, as attackers do.
            guard token != nil || page == 403 || page == 429 else {
                throw Failure("the login page at \(simulator.target) has no form token: is this SecMon?")
            }
            let (status, location) = try await send(.POST, "/login", form: ["username": name, "password": password, "csrf_token": token ?? "none"])
            if expectSuccess, status != 303 || location?.hasPrefix("/login") == true {
                throw Failure("logging in as '\(name)' failed (HTTP \(status)): check --user and the password")
            }
        }

        func logout() async throws {
            _ = try await send(.GET, "/account/password")
            guard let token = Self.csrfToken(in: lastBody) else { throw Failure("not logged in: no form token on /account/password") }
            _ = try await send(.POST, "/logout", form: ["csrf_token": token])
        }

        static func csrfToken(in page: String) -> String? {
            for marker in ["name=\"csrf_token\" value=\"", "name=\"csrf-token\" content=\""] {
                if let range = page.range(of: marker), let end = page[range.upperBound...].firstIndex(of: "\"") {
                    return String(page[range.upperBound..<end])
                }
            }
            return nil
        }

        static func encode(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? s
        }
    }
}

extension Scenario.Step: CustomStringConvertible {
    public var description: String {
        switch self {
        case .failedLogin(let user): return "failed login as \(user)"
        case .login: return "login"
        case .logout: return "logout"
        case .get(let path): return "GET \(path)"
        }
    }
}
