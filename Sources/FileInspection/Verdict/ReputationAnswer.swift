import Foundation

/// What an online reputation service said of a file's SHA-256, read from the VirusTotal API v3
/// answer (`GET /api/v3/files/{sha256}`), and the reason it adds to a verdict. Pure: the HTTP
/// exchange lives in the app, so every rule here is tested on answers built in the test.
public enum ReputationAnswer: Sendable, Equatable {
    /// The service knows the file: how many of its engines called it what.
    case known(malicious: Int, suspicious: Int, engines: Int)
    /// The service has never seen the file (HTTP 404).
    case unknown
    /// The lookup failed: why, in a sentence (HTTP status, timeout, unreadable answer).
    case failed(String)

    /// Engines flagging a file as malicious from which it is called malicious (VirusTotal's own
    /// page colours a file red from one engine; one engine alone is often a false positive).
    public static let maliciousFrom = 3

    /// Reads the answer to a file lookup: `status` is the HTTP status, `body` its bytes.
    public static func parse(status: Int, body: [UInt8]) -> ReputationAnswer {
        switch status {
        case 200:
            guard let answer = try? JSONDecoder().decode(FileObject.self, from: Data(body)) else {
                return .failed("the service's answer is not a file report (\(body.count) bytes)")
            }
            let stats = answer.data.attributes.last_analysis_stats
            let engines = [stats.malicious, stats.suspicious, stats.undetected, stats.harmless, stats.timeout, stats.failure,
                           stats.type_unsupported].reduce(0) { $0.addingReportingOverflow(max(0, $1 ?? 0)).partialValue }
            return .known(malicious: max(0, stats.malicious ?? 0), suspicious: max(0, stats.suspicious ?? 0), engines: engines)
        case 404: return .unknown
        case 401, 403: return .failed("the service refused the API key (HTTP \(status)); check SECMON_REPUTATION_KEY")
        case 429: return .failed("the service's quota is used up (HTTP 429); try again later")
        default: return .failed("the service answered HTTP \(status)")
        }
    }

    /// The reason this answer adds, naming the service (`VirusTotal`).
    public func reason(service: String) -> ScanReason {
        switch self {
        case .known(let malicious, let suspicious, let engines):
            let weight: ScanVerdict = malicious >= Self.maliciousFrom ? .malicious : (malicious + suspicious > 0 ? .suspicious : .clean)
            let detail = malicious + suspicious == 0
                ? "\(service): none of \(engines) engines flags this file"
                : "\(service): \(malicious) of \(engines) engines call this file malicious, \(suspicious) suspicious"
            return ScanReason(code: "reputation", weight: weight, detail: detail)
        case .unknown:
            return ScanReason(code: "reputation", weight: .clean, detail: "\(service) has never seen this file")
        case .failed(let why):
            return ScanReason(code: "reputation-unavailable", weight: .clean, detail: "\(service) lookup failed: \(why)")
        }
    }

    // The part of VirusTotal's file object read here.
    private struct FileObject: Decodable {
        struct Attributes: Decodable { var last_analysis_stats: Stats }
        struct Stats: Decodable {
            var malicious: Int?
            var suspicious: Int?
            var undetected: Int?
            var harmless: Int?
            var timeout: Int?
            var failure: Int?
            var type_unsupported: Int?

            enum CodingKeys: String, CodingKey {
                case malicious, suspicious, undetected, harmless, timeout, failure
                case type_unsupported = "type-unsupported"
            }
        }
        struct Object: Decodable { var attributes: Attributes }
        var data: Object
    }
}
