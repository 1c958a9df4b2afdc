import Foundation
import SecurityModel
import Yams

/// Turns one `field|modifiers: value(s)` entry of a Sigma detection into a ``ValueTest``.
struct ValueCompiler {
    /// Compiles the entry; `slot(for:)` assigns field slots (also for `fieldref` targets).
    static func compile(
        key: String, keyLine: Int, value: Node, slot: (String) -> Int, placeholders: PlaceholderUse = PlaceholderUse()
    ) throws(RuleLoadError) -> SearchIdentifier.FieldTest {
        var parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let field = parts.removeFirst()
        guard !field.isEmpty else {
            throw RuleLoadError(.value, "'\(key)': a field name is needed before the modifiers (keyword searches are lists of strings without a field)", line: keyLine)
        }
        var modifiers: [SigmaModifier] = []
        for name in parts {
            if let reason = SigmaModifier.unsupported[name] {
                throw RuleLoadError(.value, "modifier '\(name)' in '\(key)' is not supported: \(reason)", line: keyLine)
            }
            guard let modifier = SigmaModifier(rawValue: name) else {
                throw RuleLoadError(.value, "unknown modifier '\(name)' in '\(key)'; supported: \(SigmaModifier.supportedList)", line: keyLine)
            }
            modifiers.append(modifier)
        }
        let has = Set(modifiers)
        let line = YAMLAccess.line(value) == 0 ? keyLine : YAMLAccess.line(value)
        let nodes: [Node]
        if case .sequence(let sequence) = value { nodes = Array(sequence) } else { nodes = [value] }
        guard !nodes.isEmpty else { throw RuleLoadError(.value, "'\(key)' has an empty list of values", line: line) }
        for node in nodes {
            if case .scalar = node { continue }
            throw RuleLoadError(.value, "'\(key)': values must be scalars (strings, numbers, null) or a list of them", line: YAMLAccess.line(node))
        }
        if has.contains(.expand) {
            return try expand(field: field, key: key, keyLine: keyLine, modifiers: modifiers, nodes: nodes, slot: slot, placeholders: placeholders)
        }
        let matchAll = has.contains(.all)
        func combine(_ tests: [ValueTest]) -> ValueTest {
            tests.count == 1 ? tests[0] : (matchAll ? .allOf(tests) : .anyOf(tests))
        }
        let position: [SigmaModifier] = modifiers.filter { [.contains, .startswith, .endswith].contains($0) }
        if position.count > 1 {
            throw RuleLoadError(.value, "'\(key)' combines \(position.map(\.rawValue).joined(separator: " and ")); use one of contains, startswith, endswith", line: keyLine)
        }
        func exclusive(_ modifier: SigmaModifier, allowing: Set<SigmaModifier>) throws(RuleLoadError) {
            let others = has.subtracting(allowing).subtracting([modifier])
            if !others.isEmpty {
                throw RuleLoadError(.value, "'\(key)': modifier '\(modifier.rawValue)' cannot be combined with \(others.map(\.rawValue).sorted().joined(separator: ", "))", line: keyLine)
            }
        }

        // exists: presence only.
        if has.contains(.exists) {
            try exclusive(.exists, allowing: [])
            guard nodes.count == 1, let wanted = YAMLAccess.bool(nodes[0]) else {
                throw RuleLoadError(.value, "'\(key)' needs true or false", line: line)
            }
            return .init(slot: slot(field), field: field, test: .exists(wanted), exactValues: nil)
        }
        if has.contains(.cidr) {
            try exclusive(.cidr, allowing: [.all])
            var tests: [ValueTest] = []
            for node in nodes {
                guard let text = YAMLAccess.scalarText(node), let block = CIDRBlock(text) else {
                    throw RuleLoadError(.value, "'\(key)': '\(YAMLAccess.scalarText(node) ?? "")' is not a network in CIDR notation (like 10.0.0.0/8 or 2001:db8::/32)", line: YAMLAccess.line(node))
                }
                tests.append(.cidr(block))
            }
            return .init(slot: slot(field), field: field, test: combine(tests), exactValues: nil)
        }
        if has.contains(.re) {
            try exclusive(.re, allowing: [.i, .m, .s, .all])
            var options: NSRegularExpression.Options = []
            if has.contains(.i) { options.insert(.caseInsensitive) }
            if has.contains(.m) { options.insert(.anchorsMatchLines) }
            if has.contains(.s) { options.insert(.dotMatchesLineSeparators) }
            var tests: [ValueTest] = []
            for node in nodes {
                let source = YAMLAccess.scalarText(node) ?? ""
                do {
                    tests.append(.regex(try NSRegularExpression(pattern: source, options: options), source: source))
                } catch {
                    throw RuleLoadError(.value, "'\(key)': invalid regular expression '\(source)'", line: YAMLAccess.line(node))
                }
            }
            return .init(slot: slot(field), field: field, test: combine(tests), exactValues: nil)
        }
        for flag in [SigmaModifier.i, .m, .s] where has.contains(flag) {
            throw RuleLoadError(.value, "'\(key)': '\(flag.rawValue)' is a flag of 're' and needs it (field|re|\(flag.rawValue))", line: keyLine)
        }
        let comparisons: [SigmaModifier] = [.lt, .lte, .gt, .gte]
        if let op = modifiers.first(where: comparisons.contains) {
            try exclusive(op, allowing: [])
            var tests: [ValueTest] = []
            for node in nodes {
                guard let bound = YAMLAccess.number(node) ?? YAMLAccess.scalarText(node).flatMap(Double.init) else {
                    throw RuleLoadError(.value, "'\(key)' needs a number", line: YAMLAccess.line(node))
                }
                tests.append(.compare(ComparisonOperator(rawValue: op.rawValue)!, bound))
            }
            return .init(slot: slot(field), field: field, test: combine(tests), exactValues: nil)
        }
        let cased = has.contains(.cased)
        if has.contains(.fieldref) {
            try exclusive(.fieldref, allowing: [.contains, .startswith, .endswith, .cased, .all, .neq])
            var tests: [ValueTest] = []
            for node in nodes {
                guard let other = YAMLAccess.scalarText(node), !other.isEmpty else {
                    throw RuleLoadError(.value, "'\(key)' needs the name of another field", line: YAMLAccess.line(node))
                }
                let shape: TextPattern.Shape = has.contains(.contains) ? .contains : has.contains(.startswith) ? .prefix : has.contains(.endswith) ? .suffix : .equals
                tests.append(.fieldRef(slot: slot(other), shape: shape, cased: cased))
            }
            let test = combine(tests)
            return .init(slot: slot(field), field: field, test: has.contains(.neq) ? .not(test) : test, exactValues: nil)
        }

        // Text values, possibly encoded.
        let encodings: [SigmaModifier] = [.utf16le, .utf16be, .utf16, .wide]
        let encoding = modifiers.first(where: encodings.contains)
        let base64 = has.contains(.base64) || has.contains(.base64offset)
        if has.contains(.base64) && has.contains(.base64offset) {
            throw RuleLoadError(.value, "'\(key)' uses both base64 and base64offset; use one", line: keyLine)
        }
        if has.contains(.base64offset) && !has.contains(.contains) {
            throw RuleLoadError(.value, "'\(key)': base64offset finds a value inside encoded text and needs 'contains' after it (field|base64offset|contains)", line: keyLine)
        }
        if encoding != nil && !base64 {
            throw RuleLoadError(.value, "'\(key)': \(encoding!.rawValue) must be followed by base64 or base64offset (UTF-16 text cannot appear in a text field otherwise)", line: keyLine)
        }
        var tests: [ValueTest] = []
        var written: [String] = []
        var exact: [String]? = (position.isEmpty && !base64 && !has.contains(.windash) && !has.contains(.neq) && !(matchAll && nodes.count > 1)) ? [] : nil
        for node in nodes {
            if YAMLAccess.isNull(node) {
                guard modifiers.allSatisfy({ $0 == .all || $0 == .neq }) else {
                    throw RuleLoadError(.value, "'\(key)': null cannot be combined with modifiers", line: YAMLAccess.line(node))
                }
                tests.append(.null)
                exact = nil
                continue
            }
            let text = YAMLAccess.scalarText(node) ?? ""
            if let integer = YAMLAccess.integer(node), modifiers.allSatisfy({ $0 == .all || $0 == .neq || $0 == .cased }) {
                tests.append(.integer(integer, TextPattern(sigma: String(integer), cased: true)))
                exact?.append(String(integer))
                written.append(String(integer))
                continue
            }
            var variants = has.contains(.windash) ? Self.windashVariants(text) : [text]
            if base64 {
                variants = variants.flatMap { variant -> [String] in
                    let bytes = Self.encode(variant, encoding)
                    return has.contains(.base64offset) ? Self.base64Offsets(bytes) : [Data(bytes).base64EncodedString()]
                }
                // Encoded text has no wildcards of its own; escape nothing, it only uses [A-Za-z0-9+/=].
            }
            for variant in variants {
                var pattern = variant
                if has.contains(.contains) { pattern = "*" + Self.beforeWildcard(pattern) + "*" }
                else if has.contains(.startswith) { pattern = Self.beforeWildcard(pattern) + "*" }
                else if has.contains(.endswith) { pattern = "*" + pattern }
                // base64 output is case-sensitive by nature.
                let compiled = TextPattern(sigma: pattern, cased: cased || base64)
                tests.append(.text(compiled))
                if compiled.shape == .equals, !compiled.cased {
                    exact?.append(String(decoding: compiled.literal, as: UTF8.self))
                    if !variant.contains("\\") { written.append(variant) }
                } else {
                    exact = nil
                }
            }
        }
        var test = combine(tests)
        if !matchAll, tests.count > 1 {
            let patterns = tests.compactMap { if case .text(let pattern) = $0 { return pattern }; return nil }
            if patterns.count == tests.count { test = .anyText(TextPatternSet(patterns)) }
        }
        // neq: none of the values (a list means "not this and not that").
        if has.contains(.neq) { test = .not(.anyOf(tests)) }
        var result = SearchIdentifier.FieldTest(slot: slot(field), field: field, test: test, exactValues: exact)
        result.writtenValues = written
        return result
    }

    /// `field|expand|...`: each value's `%placeholders%` replaced by the entries of their lists
    /// (``PlaceholderTable``), then compiled with the other modifiers. With `expand` alone, a value
    /// that is one placeholder matches entries written as networks by address (CIDR).
    private static func expand(
        field: String, key: String, keyLine: Int, modifiers: [SigmaModifier], nodes: [Node], slot: (String) -> Int, placeholders: PlaceholderUse
    ) throws(RuleLoadError) -> SearchIdentifier.FieldTest {
        let allowed: Set<SigmaModifier> = [.expand, .contains, .startswith, .endswith, .all, .cased, .neq, .windash]
        let others = Set(modifiers).subtracting(allowed)
        guard others.isEmpty else {
            throw RuleLoadError(.value, "'\(key)': modifier 'expand' works with text modifiers (contains, startswith, endswith, all, cased, neq, windash), not \(others.map(\.rawValue).sorted().joined(separator: ", "))", line: keyLine)
        }
        let networksAllowed = modifiers.allSatisfy { $0 == .expand }
        var texts: [Node] = []
        var networks: [ValueTest] = []
        for node in nodes {
            guard let value = YAMLAccess.scalarText(node), !YAMLAccess.isNull(node) else {
                throw RuleLoadError(.value, "'\(key)': expand needs text values with placeholders such as '%indicator_ips%'", line: YAMLAccess.line(node))
            }
            let names = PlaceholderTable.names(in: value)
            guard !names.isEmpty else {
                throw RuleLoadError(.value, "'\(key)': '\(value)' has no placeholder; write one as %name% (letters, digits, _ - .)", line: YAMLAccess.line(node))
            }
            names.forEach(placeholders.record)
            let whole = names.count == 1 && value == "%\(names[0])%"
            let entries: [String]
            do {
                entries = try placeholders.table.expand(value)
            } catch {
                throw RuleLoadError(.value, "'\(key)': \(error.message)", line: YAMLAccess.line(node))
            }
            for entry in entries {
                if whole, networksAllowed, entry.contains("/"), let block = CIDRBlock(entry) {
                    networks.append(.cidr(block))
                } else {
                    texts.append(.scalar(.init(entry, .init(.str), .singleQuoted, node.mark)))
                }
            }
        }
        let rest = ([field] + modifiers.filter { $0 != .expand }.map(\.rawValue)).joined(separator: "|")
        let negated = modifiers.contains(.neq)
        var tests: [ValueTest] = networks
        if !texts.isEmpty {
            let text = try compile(key: rest, keyLine: keyLine, value: .sequence(.init(texts)), slot: slot)
            if networks.isEmpty { return text }
            tests.append(text.test)
        }
        // No entries at all (an empty or missing list) give an empty OR: false, or true under neq.
        let test: ValueTest = tests.count == 1 ? tests[0] : .anyOf(tests)
        return .init(slot: slot(field), field: field, test: negated && texts.isEmpty ? .not(test) : test, exactValues: nil)
    }

    /// A value about to get a `*` appended: a trailing lone backslash is a literal backslash and
    /// must not turn the added wildcard into a literal `*`.
    static func beforeWildcard(_ value: String) -> String {
        let trailing = value.reversed().prefix { $0 == "\\" }.count
        return trailing % 2 == 1 ? value + "\\" : value
    }

    static func encode(_ text: String, _ encoding: SigmaModifier?) -> [UInt8] {
        switch encoding {
        case .utf16le?, .wide?: return text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case .utf16be?: return text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case .utf16?: return [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        default: return Array(text.utf8)
        }
    }

    /// The three base64 forms of `bytes` at offsets 0, 1 and 2 of a longer text, trimmed to the
    /// characters that do not depend on the surrounding bytes (as pySigma does).
    static func base64Offsets(_ bytes: [UInt8]) -> [String] {
        let startTrim = [0, 2, 3]
        let endTrim = [0, 3, 2]
        return (0..<3).map { shift in
            let encoded = Array(Data(Array(repeating: UInt8(ascii: " "), count: shift) + bytes).base64EncodedString().utf8)
            let end = encoded.count - endTrim[(bytes.count + shift) % 3]
            let start = startTrim[shift]
            return end > start ? String(decoding: encoded[start..<end], as: UTF8.self) : ""
        }
    }

    /// `windash`: every `-` or `/` that starts a word, in each of its dash forms.
    static func windashVariants(_ text: String) -> [String] {
        let dashes: [Character] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        var results = [""]
        var previous: Character = " "
        for character in text {
            if (character == "-" || character == "/") && previous.isWhitespace, results.count < 625 {
                results = results.flatMap { prefix in dashes.map { prefix + String($0) } }
            } else {
                results = results.map { $0 + String(character) }
            }
            previous = character
        }
        return results
    }
}
