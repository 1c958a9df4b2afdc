import Foundation
/// What an active-response action does.
public enum ResponseKind: String, CaseIterable, Sendable, Hashable, Codable {
    /// Every request from the source is answered 403 before any other work.
    case block
    /// Requests from the source beyond a rate are answered 429 with `Retry-After`.
    case rateLimit = "ratelimit"
    /// The account cannot log in, and its sessions are ended.
    case lock
    /// Later alerts about the address or user get a higher severity, saying why.
    case watch
    /// No automatic action ever targets the address, network or user; manual ones are refused.
    case allow

    /// Accepts `ratelimit`, `rate-limit` and `rate_limit` for ``rateLimit``.
    public init?(parsing text: String) {
        let lower = text.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
        guard let kind = ResponseKind(rawValue: lower) else { return nil }
        self = kind
    }

    /// The verb shown on timelines ("Blocked 192.0.2.7").
    public var pastTense: String {
        switch self {
        case .block: "Blocked"
        case .rateLimit: "Rate-limited"
        case .lock: "Locked"
        case .watch: "Watchlisted"
        case .allow: "Allowlisted"
        }
    }

    /// The verb for the undo ("Unblocked 192.0.2.7").
    public var undoneTense: String {
        switch self {
        case .block: "Unblocked"
        case .rateLimit: "Lifted the rate limit of"
        case .lock: "Unlocked"
        case .watch: "Took off the watchlist"
        case .allow: "Took off the allowlist"
        }
    }

    /// A noun for headings and messages.
    public var noun: String {
        switch self {
        case .block: "block"
        case .rateLimit: "rate limit"
        case .lock: "account lock"
        case .watch: "watchlist entry"
        case .allow: "allowlist entry"
        }
    }

    /// Which targets the kind takes.
    public var targets: ResponseTarget.Accepted {
        switch self {
        case .block, .rateLimit: .addresses
        case .lock: .users
        case .watch, .allow: .either
        }
    }

    /// The kinds a per-rule policy may take automatically (allowlisting is a person's decision).
    public static let automatic: [ResponseKind] = [.block, .rateLimit, .lock, .watch]
}
