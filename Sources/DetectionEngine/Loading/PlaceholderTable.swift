import Yams

/// The values of the placeholders rules name with Sigma's `expand` modifier
/// (`DestinationIp|expand: '%indicator_ips%'`): lists an administrator keeps, such as indicator
/// addresses or domains, resolved when the rules are compiled.
///
/// A placeholder without a list is an empty list: the value it stands for matches nothing, so a
/// rule waiting for its list stays quiet instead of failing to load. An entry written as a network
/// (`198.51.100.0/24`, `2001:db8::/32`) matches every address inside it when the placeholder is
/// the whole value; other entries are Sigma strings (`*` and `?` are wildcards).
public struct PlaceholderTable: Sendable, Equatable {
    /// The lists by placeholder name (without the `%`s).
    public private(set) var lists: [String: [String]]

    /// Most values one rule value may expand to (the product of its placeholders' list sizes).
    public static let maximumExpansion = 1_000_000

    public init(_ lists: [String: [String]] = [:]) {
        self.lists = lists
    }

    /// The list for `name`, if one is defined.
    public subscript(name: String) -> [String]? { lists[name] }

    /// Whether `name` can be a placeholder name: letters, digits, `_`, `-` and `.`, 1 to 64 bytes.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D || byte == 0x2E
        }
    }

    /// A value split into literal text and placeholder names: `C:\%dir%\x` gives
    /// `[.text("C:\"), .placeholder("dir"), .text("\x")]`. A `%` that does not open a valid
    /// name closed by another `%` is literal text.
    enum Part: Equatable { case text(String), placeholder(String) }

    static func parts(of value: String) -> [Part] {
        var parts: [Part] = []
        var text = Substring(value)
        var literal = ""
        while let open = text.firstIndex(of: "%") {
            let afterOpen = text.index(after: open)
            if let close = text[afterOpen...].firstIndex(of: "%"), isValidName(String(text[afterOpen..<close])) {
                literal += text[..<open]
                if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
                parts.append(.placeholder(String(text[afterOpen..<close])))
                text = text[text.index(after: close)...]
            } else {
                literal += text[...open]
                text = text[afterOpen...]
            }
        }
        literal += text
        if !literal.isEmpty || parts.isEmpty { parts.append(.text(literal)) }
        return parts
    }

    /// The placeholder names in `value`.
    static func names(in value: String) -> [String] {
        parts(of: value).compactMap { if case .placeholder(let name) = $0 { return name }; return nil }
    }

    /// Every value `value` stands for: each placeholder replaced by each entry of its list (all
    /// combinations). Empty when a placeholder's list is empty or missing.
    /// - Throws: a message when there would be more than ``maximumExpansion`` values.
    func expand(_ value: String) throws(PlaceholderError) -> [String] {
        var results = [""]
        for part in Self.parts(of: value) {
            switch part {
            case .text(let text):
                results = results.map { $0 + text }
            case .placeholder(let name):
                let entries = lists[name] ?? []
                let (product, overflow) = results.count.multipliedReportingOverflow(by: entries.count)
                guard !overflow, product <= Self.maximumExpansion else {
                    throw PlaceholderError("'\(value)' expands to more than \(Self.maximumExpansion) values; use fewer placeholders in one value or shorter lists")
                }
                var next: [String] = []
                next.reserveCapacity(product)
                for prefix in results { for entry in entries { next.append(prefix + entry) } }
                results = next
            }
        }
        return results
    }

    /// A digest of the lists `names` refer to, to mix into the fingerprint of the rules that use
    /// them (a changed list changes what the rule matches). FNV-1a, stable across runs.
    func digest(of names: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 { hash ^= UInt64(byte); hash = hash &* 0x0000_0100_0000_01B3 }
            hash ^= 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
        }
        for name in Set(names).sorted() {
            add(name)
            for entry in lists[name] ?? [] { add(entry) }
        }
        return hash
    }

    /// Reads a placeholder file: a YAML mapping of name to a list of values (or one value).
    ///
    /// ```yaml
    /// indicator_ips: [203.0.113.7, 198.51.100.0/24]
    /// indicator_domains:
    ///   - bad.example
    /// ```
    /// - Throws: a message naming the line when the file is not such a mapping.
    public static func parse(yaml text: String) throws(PlaceholderError) -> PlaceholderTable {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw PlaceholderError("not valid YAML: \(error)")
        }
        guard let node else { return PlaceholderTable() }
        return try parse(node: node)
    }

    /// Reads a placeholder mapping already parsed as YAML (a `placeholders:` section).
    public static func parse(node: Node) throws(PlaceholderError) -> PlaceholderTable {
        guard let pairs = YAMLAccess.pairs(node) else {
            throw PlaceholderError("line \(YAMLAccess.line(node)): expected a mapping of placeholder name to a list of values")
        }
        var lists: [String: [String]] = [:]
        for (name, keyNode, value) in pairs {
            guard isValidName(name) else {
                throw PlaceholderError("line \(YAMLAccess.line(keyNode)): '\(name)' is not a placeholder name (letters, digits, _ - and ., up to 64 bytes)")
            }
            let items: [Node]
            if case .sequence(let sequence) = value { items = Array(sequence) } else if YAMLAccess.isNull(value) { items = [] } else { items = [value] }
            var entries: [String] = []
            for item in items {
                guard case .scalar = item, let text = YAMLAccess.scalarText(item) else {
                    throw PlaceholderError("line \(YAMLAccess.line(item)): the values of '\(name)' must be strings")
                }
                entries.append(text)
            }
            lists[name] = entries
        }
        return PlaceholderTable(lists)
    }
}

/// Why a placeholder file or expansion was refused.
public struct PlaceholderError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The placeholder table one load compiles against, and the placeholders its rules used.
final class PlaceholderUse {
    let table: PlaceholderTable
    /// Placeholder names used since ``take()``, in order of use.
    private(set) var names: [String] = []

    init(_ table: PlaceholderTable = PlaceholderTable()) { self.table = table }

    /// Rule and filter labels by the placeholder they use.
    private(set) var users: [String: [String]] = [:]

    func record(_ name: String) { if !names.contains(name) { names.append(name) } }

    func recordUser(_ name: String, _ label: String) {
        if users[name]?.contains(label) != true { users[name, default: []].append(label) }
    }

    /// The names used since the last call, clearing them.
    func take() -> [String] {
        defer { names = [] }
        return names
    }
}

