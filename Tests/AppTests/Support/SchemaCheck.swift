import Foundation
import Testing

/// Checks JSON answers against the schemas of the served OpenAPI document: types (3.1 type
/// arrays included), required properties, no undocumented properties where the schema says so,
/// enums, array items and `$ref`s to components. A small validator for the subset SecMon's
/// document uses, so that "responses match their schemas" is checked on real answers.
struct SchemaCheck {
    let document: [String: Any]

    /// The success schema of `method path` (OpenAPI path form) for `status`.
    func responseSchema(_ method: String, _ path: String, status: Int = 200) throws -> [String: Any] {
        let paths = try #require(document["paths"] as? [String: Any])
        let item = try #require(paths[path] as? [String: Any], "\(path) is not documented")
        let operation = try #require(item[method.lowercased()] as? [String: Any], "\(method) \(path) is not documented")
        let responses = try #require(operation["responses"] as? [String: Any])
        let response = try #require(responses[String(status)] as? [String: Any], "\(method) \(path) documents no \(status)")
        let content = try #require(response["content"] as? [String: Any])
        let media = try #require((content["application/json"] ?? content["application/problem+json"]) as? [String: Any])
        return try #require(media["schema"] as? [String: Any])
    }

    /// Problems found in `value` against `schema`, each with its JSON path.
    func problems(_ value: Any, _ schema: [String: Any], at path: String = "$") -> [String] {
        if let ref = schema["$ref"] as? String {
            let name = String(ref.split(separator: "/").last ?? "")
            guard let components = document["components"] as? [String: Any], let schemas = components["schemas"] as? [String: Any],
                  let target = schemas[name] as? [String: Any] else { return ["\(path): unresolved \(ref)"] }
            return problems(value, target, at: path)
        }
        if let branches = (schema["oneOf"] ?? schema["anyOf"]) as? [[String: Any]] {
            let each = branches.map { problems(value, $0, at: path) }
            return each.contains(where: \.isEmpty) ? [] : ["\(path): matches none of its \(branches.count) schemas: " + each.flatMap { $0 }.prefix(3).joined(separator: "; ")]
        }
        var types: [String] = []
        if let type = schema["type"] as? String { types = [type] } else if let list = schema["type"] as? [String] { types = list }
        if value is NSNull { return types.isEmpty || types.contains("null") ? [] : ["\(path): null where \(types) is expected"] }
        if !types.isEmpty, !types.contains(where: { Self.matches(value, $0) }) {
            return ["\(path): \(type(of: value)) where \(types) is expected"]
        }
        if let allowed = schema["enum"] as? [Any], let text = value as? String,
           !allowed.contains(where: { ($0 as? String) == text }) {
            return ["\(path): '\(text)' is not one of \(allowed)"]
        }
        var found: [String] = []
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                found.append("\(path).\(name): required but missing")
            }
            for (name, item) in object {
                if let property = properties[name] as? [String: Any] {
                    found += problems(item, property, at: "\(path).\(name)")
                } else if (schema["additionalProperties"] as? Bool) == false || (!properties.isEmpty && schema["additionalProperties"] == nil) {
                    found.append("\(path).\(name): not in the schema")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, item) in array.enumerated() { found += problems(item, items, at: "\(path)[\(index)]") }
        }
        return found
    }

    static func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return value is JSONBool
        case "integer": return value is Int64
        case "number": return value is Int64 || value is Double
        case "null": return value is NSNull
        default: return true
        }
    }

    /// A JSON boolean, told apart from numbers (JSONSerialization on Linux gives both as NSNumber).
    struct JSONBool { var value: Bool }

    /// Parses JSON keeping booleans, integers and other numbers apart.
    static func parse(_ text: String) throws -> Any {
        struct Value: Decodable {
            var any: Any
            init(from decoder: any Decoder) throws {
                if var array = try? decoder.unkeyedContainer() {
                    var items: [Any] = []
                    while !array.isAtEnd { items.append(try array.decode(Value.self).any) }
                    any = items
                } else if let object = try? decoder.container(keyedBy: Key.self) {
                    var dict: [String: Any] = [:]
                    for key in object.allKeys { dict[key.stringValue] = try object.decode(Value.self, forKey: key).any }
                    any = dict
                } else {
                    let single = try decoder.singleValueContainer()
                    if single.decodeNil() { any = NSNull() }
                    else if let bool = try? single.decode(Bool.self) { any = JSONBool(value: bool) }
                    else if let int = try? single.decode(Int64.self) { any = int }
                    else if let double = try? single.decode(Double.self) { any = double }
                    else { any = try single.decode(String.self) }
                }
            }
        }
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        return try JSONDecoder().decode(Value.self, from: Data(text.utf8)).any
    }

    /// Fails the test when `body` (a JSON answer to `method path`) does not match its schema.
    func expect(_ body: String, _ method: String, _ path: String, status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let value = try Self.parse(body)
        let found = problems(value, try responseSchema(method, path, status: status))
        #expect(found.isEmpty, "\(method) \(path) \(status): \(found.prefix(10))", sourceLocation: sourceLocation)
    }
}
