import Foundation
import Vapor

/// A JSON body that does not fit its schema: not an object, too big, or with a field the route
/// does not take. (Wrong types surface as `DecodingError`, described with their field.)
struct StrictBodyError: Error, CustomStringConvertible {
    var field: String?
    var message: String
    var description: String { field.map { "\($0): \(message)" } ?? message }
}

/// Decodes JSON request bodies strictly: a field the route does not know is refused by name
/// (a typo such as `"stauts"` must not be silently ignored), as are non-object bodies.
enum StrictBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, allowed: Set<String>) throws -> T {
        guard let buffer = request.body.data, buffer.readableBytes > 0 else {
            throw StrictBodyError(field: nil, message: "the request needs a JSON object body")
        }
        let data = Data(buffer: buffer)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw StrictBodyError(field: nil, message: "the body is not a JSON object (Content-Type: application/json)")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw StrictBodyError(field: unknown, message: "unknown field; this route takes \(allowed.sorted().joined(separator: ", "))")
        }
        return try JSONDecoder().decode(T.self, from: data)
    }
}
