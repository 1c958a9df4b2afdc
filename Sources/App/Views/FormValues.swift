import Foundation
import Incidents
import SecurityModel
import Vapor

extension IncidentRefusal {
    /// The HTTP status of a refusal of this kind.
    var httpStatus: HTTPResponseStatus {
        switch kind {
        case .invalid: return .badRequest
        case .notFound: return .notFound
        case .conflict: return .conflict
        }
    }
}

/// Reading filter and form values: trimmed, bounded, and refused with the parameter's name and an
/// example when they do not parse.
enum FormValues {
    /// Trimmed, nil when empty, cut to `maxBytes` UTF-8 bytes.
    static func clean(_ text: String?, maxBytes: Int = 256) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text.prefix(utf8Bytes: maxBytes)
    }

    /// A time typed into a filter: `2026-12-01`, `2026-12-01T08:30` (what a date-time input sends),
    /// or full ISO 8601; UTC unless it names a zone.
    static func time(_ text: String?, field: String) throws(IncidentRefusal) -> Timestamp? {
        guard let text = clean(text, maxBytes: 64) else { return nil }
        for candidate in [text, text + ":00", text + "T00:00:00"] {
            if let time = Timestamp(iso8601: candidate) { return time }
        }
        throw IncidentRefusal(.invalid, field: field, "'\(text)' is not a time; write it as 2026-12-01 or 2026-12-01T08:30 (UTC)")
    }

    /// A value of a closed set (a status, a severity), or nil when empty.
    static func choice<T: RawRepresentable & CaseIterable>(_ text: String?, field: String, as: T.Type) throws(IncidentRefusal) -> T? where T.RawValue == String {
        guard let text = clean(text, maxBytes: 64) else { return nil }
        guard let value = T(rawValue: text.lowercased()) else {
            throw IncidentRefusal(.invalid, field: field, "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// A page number (1-based), at most 10,000.
    static func page(_ value: Int?) throws(IncidentRefusal) -> Int {
        guard let value else { return 1 }
        guard (1...10_000).contains(value) else { throw IncidentRefusal(.invalid, field: "page", "must be between 1 and 10000") }
        return value
    }

    /// A required version number from a form.
    static func version(_ value: Int?) throws(IncidentRefusal) -> Int {
        guard let value, value > 0 else {
            throw IncidentRefusal(.invalid, field: "version", "the form must carry the version of the incident it was made from; reload the page")
        }
        return value
    }

    /// `/path?a=1&b=2` with every value percent-encoded (`+` and `&` included) and empty ones left out.
    static func link(_ path: String, _ items: [(String, String?)]) -> String {
        var components = URLComponents()
        components.path = path
        let kept = items.compactMap { name, value in value.flatMap { $0.isEmpty ? nil : URLQueryItem(name: name, value: $0) } }
        guard !kept.isEmpty else { return path }
        components.queryItems = kept
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? path
    }

    /// `2026-12-01 08:30:05` (UTC, to the second) for tables.
    static func display(_ time: Timestamp?) -> String {
        guard let time else { return "" }
        let iso = time.iso8601
        return String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }
}
