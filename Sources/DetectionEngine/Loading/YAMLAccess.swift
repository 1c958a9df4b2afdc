import Yams

/// Small helpers for reading Sigma documents from Yams nodes with their line numbers.
enum YAMLAccess {
    static func line(_ node: Node?) -> Int { node?.mark?.line ?? 0 }

    /// The node's text if it is a scalar.
    static func scalarText(_ node: Node) -> String? {
        if case .scalar(let scalar) = node { return scalar.string }
        return nil
    }

    /// Mapping pairs with string keys, in document order.
    static func pairs(_ node: Node) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.compactMap { pair in scalarText(pair.key).map { ($0, pair.key, pair.value) } }
    }

    static func value(_ node: Node, _ key: String) -> Node? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping[key]
    }

    /// A string or a list of strings.
    static func strings(_ node: Node) -> [String]? {
        switch node {
        case .scalar(let scalar): return [scalar.string]
        case .sequence(let sequence):
            var out: [String] = []
            for item in sequence {
                guard let text = scalarText(item) else { return nil }
                out.append(text)
            }
            return out
        default: return nil
        }
    }

    /// The resolved YAML type of a plain scalar (`int`, `float`, `bool`, `null`, `str`).
    static func isPlain(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node { return scalar.style == .plain || scalar.style == .any }
        return false
    }

    static func isNull(_ node: Node) -> Bool { isPlain(node) && node.tag.rawValue == Tag.Name.null.rawValue }
    static func integer(_ node: Node) -> Int64? {
        guard isPlain(node), node.tag.rawValue == Tag.Name.int.rawValue, let text = scalarText(node) else { return nil }
        return Int64(text)
    }
    static func number(_ node: Node) -> Double? {
        guard isPlain(node) else { return nil }
        if node.tag.rawValue == Tag.Name.int.rawValue, let text = scalarText(node) { return Double(text) }
        if node.tag.rawValue == Tag.Name.float.rawValue { return node.float }
        return nil
    }
    static func bool(_ node: Node) -> Bool? {
        guard isPlain(node), node.tag.rawValue == Tag.Name.bool.rawValue else { return nil }
        return node.bool
    }
}
