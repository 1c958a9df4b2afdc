import Crypto
import Foundation
import Incidents
import SQLKit

/// Opaque pagination cursors: the position after the last item of a page, signed (HMAC-SHA256
/// with a key every node shares, kept in `server_secrets`), so a cursor that was altered, or made
/// up, is refused by name instead of silently starting somewhere else.
struct CursorCodec: Sendable {
    let key: SymmetricKey

    /// The shared key, made on first use.
    static func load(on database: any SQLDatabase) async throws -> CursorCodec {
        let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await database.raw("INSERT INTO server_secrets (name, value) VALUES ('cursor-key', \(bind: fresh)) ON CONFLICT DO NOTHING").run()
        let stored = try await database.raw("SELECT value FROM server_secrets WHERE name = 'cursor-key'").first()?.decode(column: "value", as: String.self)
        guard let stored, let bytes = Data(base64Encoded: stored) else { throw StrictBodyError(field: nil, message: "the cursor key is unreadable") }
        return CursorCodec(key: SymmetricKey(data: bytes))
    }

    /// `kind` names the listing (a cursor of one listing is refused by another); `parts` the position.
    func encode(kind: String, _ parts: [String]) -> String {
        let payload = Data(([kind] + parts).joined(separator: "\n").utf8)
        let mac = Data(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(16)
        return Self.base64url(payload) + "." + Self.base64url(mac)
    }

    func decode(_ cursor: String, kind: String, count: Int) throws(IncidentRefusal) -> [String] {
        let pieces = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard cursor.utf8.count <= 1024, pieces.count == 2, let payload = Self.unbase64url(String(pieces[0])),
              let mac = Self.unbase64url(String(pieces[1])),
              Data(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(16) == mac else {
            throw IncidentRefusal(.invalid, field: "cursor", "not a cursor this server gave (altered or made up); start again without it")
        }
        let parts = String(decoding: payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == count + 1, parts[0] == kind else {
            throw IncidentRefusal(.invalid, field: "cursor", "this cursor belongs to another listing; use the next_cursor of this one")
        }
        return Array(parts.dropFirst())
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> Data? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base)
    }
}
