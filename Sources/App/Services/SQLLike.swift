import SQLKit

/// `LIKE` conditions on user-typed text that mean what they say: `%`, `_` and `\` in the text
/// match themselves (escaped, with an explicit `ESCAPE`, which SQLite needs), and the match
/// ignores case the same way on SQLite and PostgreSQL (both sides lower-cased).
enum SQLLike {
    /// `column` starts with `text`.
    static func prefix(_ column: String, _ text: String) -> SQLQueryString {
        "LOWER(\(ident: column)) LIKE \(bind: escape(text.lowercased()) + "%") ESCAPE '\\'"
    }

    /// `column` contains `text`.
    static func contains(_ column: String, _ text: String) -> SQLQueryString {
        "LOWER(\(ident: column)) LIKE \(bind: "%" + escape(text.lowercased()) + "%") ESCAPE '\\'"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
