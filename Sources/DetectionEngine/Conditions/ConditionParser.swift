/// Parses a Sigma `condition` string into a ``ConditionExpression``.
///
/// Grammar (loosest first): `or`, `and`, `not`, `1 of x` / `all of x` (x a name, a `prefix*`
/// pattern or `them`), parentheses. Identifiers starting with `_` are left out of `them`.
/// The pre-2.0 aggregation syntax (`| count() > 5`) is rejected with a pointer to correlations.
struct ConditionParser {
    struct Failure: Error { let message: String }

    private enum Token: Equatable {
        case word(String)
        case open, close
    }

    private let names: [String]
    private var tokens: [Token] = []
    private var position = 0

    /// - Parameter names: the search identifiers, in their index order.
    init(names: [String]) { self.names = names }

    mutating func parse(_ text: String) throws(Failure) -> ConditionExpression {
        if text.contains("|") {
            throw Failure(message: "the aggregation syntax '| count() ...' is obsolete in Sigma 2; write a correlation rule (type: event_count) that references this rule")
        }
        tokens = try Self.tokenize(text)
        position = 0
        guard !tokens.isEmpty else { throw Failure(message: "the condition is empty") }
        let expression = try parseOr()
        if position < tokens.count {
            throw Failure(message: "unexpected '\(describe(tokens[position]))' at token \(position + 1) of '\(text)'")
        }
        return expression
    }

    private static func tokenize(_ text: String) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        var current = ""
        func flush() { if !current.isEmpty { tokens.append(.word(current)); current = "" } }
        for character in text {
            switch character {
            case "(": flush(); tokens.append(.open)
            case ")": flush(); tokens.append(.close)
            case " ", "\t", "\n", "\r": flush()
            default:
                guard character.isLetter || character.isNumber || "_-*.".contains(character) else {
                    throw Failure(message: "unexpected character '\(character)' in condition '\(text)'")
                }
                current.append(character)
            }
        }
        flush()
        return tokens
    }

    private func describe(_ token: Token) -> String {
        switch token { case .word(let w): return w; case .open: return "("; case .close: return ")" }
    }

    private func peekWord() -> String? {
        guard position < tokens.count, case .word(let w) = tokens[position] else { return nil }
        return w.lowercased()
    }

    private mutating func parseOr() throws(Failure) -> ConditionExpression {
        var parts = [try parseAnd()]
        while peekWord() == "or" { position += 1; parts.append(try parseAnd()) }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    private mutating func parseAnd() throws(Failure) -> ConditionExpression {
        var parts = [try parseNot()]
        while peekWord() == "and" { position += 1; parts.append(try parseNot()) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    private mutating func parseNot() throws(Failure) -> ConditionExpression {
        if peekWord() == "not" { position += 1; return .not(try parseNot()) }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(Failure) -> ConditionExpression {
        guard position < tokens.count else { throw Failure(message: "the condition ends where a search identifier was expected") }
        let token = tokens[position]
        position += 1
        switch token {
        case .open:
            let inner = try parseOr()
            guard position < tokens.count, tokens[position] == .close else {
                throw Failure(message: "missing ')' in condition")
            }
            position += 1
            return inner
        case .close:
            throw Failure(message: "unexpected ')' in condition")
        case .word(let word):
            let lower = word.lowercased()
            if ["and", "or"].contains(lower) { throw Failure(message: "'\(word)' needs a search identifier before it") }
            if lower == "1" || lower == "all" || lower == "any" {
                guard peekWord() == "of" else {
                    throw Failure(message: "'\(word)' must be followed by 'of' (as in '1 of selection*')")
                }
                if lower == "any" { throw Failure(message: "'any of' is not Sigma; write '1 of'") }
                position += 1
                guard position < tokens.count, case .word(let target) = tokens[position] else {
                    throw Failure(message: "'\(word) of' must be followed by a name, a 'prefix*' pattern or 'them'")
                }
                position += 1
                let selected = try select(target)
                let parts = selected.map { ConditionExpression.search($0) }
                return lower == "1" ? (parts.count == 1 ? parts[0] : .or(parts)) : (parts.count == 1 ? parts[0] : .and(parts))
            }
            if let number = Int(lower), number > 1, peekWord() == "of" {
                throw Failure(message: "'\(number) of' is not supported; Sigma defines '1 of' and 'all of'")
            }
            guard let index = names.firstIndex(of: word) else {
                throw Failure(message: "unknown search identifier '\(word)'; the detection defines: \(names.joined(separator: ", "))")
            }
            return .search(index)
        }
    }

    private func select(_ target: String) throws(Failure) -> [Int] {
        if target.lowercased() == "them" {
            let indices = names.indices.filter { !names[$0].hasPrefix("_") }
            guard !indices.isEmpty else { throw Failure(message: "'them' selects no search identifier") }
            return indices
        }
        let pattern = TextPattern(sigma: target, cased: true)
        let indices = names.indices.filter { pattern.matches(names[$0]) }
        guard !indices.isEmpty else {
            throw Failure(message: "'\(target)' matches no search identifier; the detection defines: \(names.joined(separator: ", "))")
        }
        return indices
    }
}
