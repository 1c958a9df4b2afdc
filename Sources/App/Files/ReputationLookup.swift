import AsyncHTTPClient
import FileInspection
import Foundation
import NIOCore

/// The optional online reputation lookup of the file scanner: a file's SHA-256 (never its
/// content, name or path) is asked of VirusTotal's API v3. Off unless an API key is configured;
/// a failed lookup is a note on the report, never a failed scan.
public struct ReputationLookup: Sendable {
    /// Where to ask, with which key.
    public struct Settings: Sendable, Equatable {
        /// The service's base URL: `https://www.virustotal.com`, or a compatible service.
        public var baseURL: String
        /// The API key, sent as `x-apikey`.
        public var apiKey: String
        /// How long one lookup may take, in seconds.
        public var timeoutSeconds: Int64
        /// The service's name in reasons and on the scanner page.
        public var service: String

        public init(baseURL: String = "https://www.virustotal.com", apiKey: String, timeoutSeconds: Int64 = 10, service: String = "VirusTotal") {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.timeoutSeconds = timeoutSeconds
            self.service = service
        }

        /// The settings from `SECMON_REPUTATION_KEY` (or `SECMON_REPUTATION_KEY_FILE`, a file
        /// holding the key) and `SECMON_REPUTATION_URL`; nil when no key is set (the lookup is off).
        /// Throws when the URL is not HTTPS (plain HTTP is allowed to a loopback address only) or
        /// the key file cannot be read.
        public static func from(environment env: [String: String]) throws -> Settings? {
            var key = env["SECMON_REPUTATION_KEY"] ?? ""
            if key.isEmpty, let file = env["SECMON_REPUTATION_KEY_FILE"], !file.isEmpty {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw StartupError("SECMON_REPUTATION_KEY_FILE: cannot read \(file); write the API key into it, readable by SecMon only")
                }
                key = text
            }
            key = key.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { return nil }
            guard key.utf8.count <= 256, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw StartupError("SECMON_REPUTATION_KEY: an API key is up to 256 printable ASCII characters without spaces")
            }
            let url = env["SECMON_REPUTATION_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://www.virustotal.com"
            try validate(url: url)
            return Settings(baseURL: String(url.reversed().drop { $0 == "/" }.reversed()), apiKey: key)
        }

        /// HTTPS anywhere, or plain HTTP to a loopback address (a local proxy, the tests).
        static func validate(url: String) throws {
            guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host, !host.isEmpty,
                  parts.query == nil, parts.user == nil else {
                throw StartupError("SECMON_REPUTATION_URL: \(url) is not a base URL such as https://www.virustotal.com")
            }
            let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
            guard scheme == "https" || (scheme == "http" && loopback) else {
                throw StartupError("SECMON_REPUTATION_URL: \(url) must use https (plain http only to a loopback address): the API key travels with every lookup")
            }
        }
    }

    public let settings: Settings
    let http: HTTPClient

    /// A lookup through `http`, which should not follow redirects (the key must not travel on).
    public init(settings: Settings, http: HTTPClient) {
        self.settings = settings
        self.http = http
    }

    /// What the scanner page and `secmon scan` say of the lookup.
    public var summary: String {
        let host = URLComponents(string: settings.baseURL)?.host ?? settings.baseURL
        return "\(settings.service) at \(host) (only the SHA-256 is sent)"
    }

    /// The service's answer for the file whose SHA-256 is `sha256` (64 hexadecimal digits).
    public func answer(sha256: String) async -> ReputationAnswer {
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return .failed("\(sha256.prefix(80)) is not a SHA-256 in lower-case hexadecimal")
        }
        var request = HTTPClientRequest(url: settings.baseURL + "/api/v3/files/" + sha256)
        request.headers.add(name: "x-apikey", value: settings.apiKey)
        request.headers.add(name: "accept", value: "application/json")
        let timeout = TimeAmount.seconds(max(1, settings.timeoutSeconds))
        do {
            let response = try await http.execute(request, timeout: timeout)
            // A file report is a few hundred KiB at most; a larger answer is not one.
            let body = try await response.body.collect(upTo: 4 << 20)
            return ReputationAnswer.parse(status: Int(response.status.code), body: Array(buffer: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            return .failed("no answer within \(settings.timeoutSeconds) s")
        } catch is NIOTooManyBytesError {
            return .failed("the answer is larger than 4 MiB, so it is not a file report")
        } catch {
            return .failed("\(error)")
        }
    }

    /// The reason the lookup adds to the report of a file whose SHA-256 is `sha256`.
    public func reason(sha256: String) async -> ScanReason {
        await answer(sha256: sha256).reason(service: settings.service)
    }
}
