import Ink

/// Renders an incident note, written in Markdown, to HTML that is safe to put in a page.
///
/// Ink passes raw HTML through, so the text is HTML-escaped before Ink sees it: no tag or
/// attribute a note's author types survives. Ink then escapes `&` again inside code, so code spans
/// and blocks have their escapes undone once. Links keep their target only when it is `http:`,
/// `https:` or `mailto:` (anything else, `javascript:` included, is shown as its text); images are
/// shown as their alternative text.
public struct NoteRenderer: Sendable {
    /// Most UTF-8 bytes a note may have.
    public static let maxBytes = 16 * 1024

    public init() {}

    /// The note as HTML.
    public func html(_ markdown: String) -> String {
        var parser = MarkdownParser()
        parser.addModifier(Modifier(target: .links) { input in Self.safeLink(input.html) })
        parser.addModifier(Modifier(target: .images) { input in Self.imageText(input.markdown) })
        parser.addModifier(Modifier(target: .codeBlocks) { input in Self.undoubleEscapes(input.html) })
        parser.addModifier(Modifier(target: .inlineCode) { input in Self.undoubleEscapes(input.html) })
        return parser.html(from: Self.escape(markdown))
    }

    /// HTML-escapes the five characters that matter in text and attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `<a href="URL">text</a>` as Ink wrote it: kept when URL is http(s) or mailto, else the text.
    static func safeLink(_ html: String) -> String {
        guard html.hasPrefix("<a href=\""), let close = html.firstRange(of: "\">") else { return html }
        let url = html[html.index(html.startIndex, offsetBy: 9)..<close.lowerBound]
        let text = html[close.upperBound...].dropLast(4) // "</a>"
        let lowered = url.lowercased()
        let allowed = lowered.hasPrefix("https://") || lowered.hasPrefix("http://") || lowered.hasPrefix("mailto:")
        guard allowed, !url.contains(where: { $0 == "\"" || $0 == "<" || $0 == ">" || $0.isWhitespace }) else {
            return String(text)
        }
        return "<a href=\"\(url)\" rel=\"noopener noreferrer nofollow\">\(text)</a>"
    }

    /// `![alt](url)` → alt (already escaped).
    static func imageText(_ markdown: Substring) -> String {
        guard let open = markdown.firstIndex(of: "["), let close = markdown.lastIndex(of: "]"), open < close else { return "" }
        return String(markdown[markdown.index(after: open)..<close])
    }

    /// Inside code Ink escapes `&`, `<` and `>` itself; the text was escaped already, so each of
    /// our entities arrives as `&amp;lt;` and the like. Undo that one layer.
    static func undoubleEscapes(_ html: String) -> String {
        var out = html
        for entity in ["lt;", "gt;", "quot;", "#39;", "amp;"] {
            out = out.replacing("&amp;" + entity, with: "&" + entity)
        }
        return out
    }
}
