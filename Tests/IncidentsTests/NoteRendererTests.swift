import Incidents
import Testing

/// Notes are Markdown written by analysts (and pasted from attackers' requests): whatever they
/// contain, the HTML has no tag, attribute or URL scheme the note's author chose beyond the
/// allowed links.
@Suite("Note renderer")
struct NoteRendererTests {
    let renderer = NoteRenderer()

    static let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click]( javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![a](javascript:alert(1))",
        "![x\" onerror=\"alert(1)](http://example.com/x.png)",
        "[x](http://example.com\" onmouseover=\"alert(1))",
        "[x](http://example.com/\"><script>alert(1)</script>)",
        "`<script>alert(1)</script>`",
        "```\n<script>alert(1)</script>\n```",
        "<iframe src=\"https://evil.example\"></iframe>",
        "**<b onmouseover=alert(1)>bold</b>**",
        "<<script>script>alert(1)<</script>/script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<style>body{display:none}</style>",
        "> <details open ontoggle=alert(1)>",
        "| a | b |\n|---|---|\n| <script>x</script> | <img src=x> |",
        "<!-- comment --><script>1</script>",
        "# <h1 onclick=alert(1)>head</h1>",
    ]

    @Test("XSS payloads render inert", arguments: payloads)
    func inert(payload: String) {
        let html = renderer.html(payload).lowercased()
        for forbidden in ["<script", "<img", "<svg", "<iframe", "<style", "<details", "<b ", "<h1 ", "<!--", "javascript:", "vbscript:", "data:", "onerror=", "onload=", "onmouseover=", "ontoggle=", "onclick="] {
            // The words may appear as text; never as markup. Markup starts with '<' or sits in an attribute.
            if forbidden.hasPrefix("<") {
                #expect(!html.contains(forbidden), "\(payload) → \(html)")
            } else {
                #expect(!Self.attributes(of: html).contains { $0.contains(forbidden) }, "\(payload) → \(html)")
            }
        }
        // Every tag is one of the few Markdown produces, and the only attributes are a safe href and rel.
        for tag in Self.tags(of: html) {
            let name = String(tag.prefix { $0.isLetter || $0.isNumber || $0 == "/" }).replacing("/", with: "")
            #expect(["p", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "s", "del"].contains(name), "tag <\(tag)> in \(html)")
        }
        for attribute in Self.attributes(of: html) {
            #expect(attribute.hasPrefix("href=\"http") || attribute.hasPrefix("href=\"mailto:") || attribute.hasPrefix("rel="), "attribute \(attribute) in \(html)")
        }
    }

    @Test("ordinary Markdown still renders: emphasis, lists, code, safe links")
    func markdown() {
        let html = renderer.html("Blocked **203.0.113.7** at the proxy.\n\n- checked `auth.log`\n- see [the runbook](https://wiki.example/runbook?a=1&b=2)\n\nmail [soc](mailto:soc@example.com)")
        #expect(html.contains("<strong>203.0.113.7</strong>"))
        #expect(html.contains("<li>checked <code>auth.log</code></li>"))
        #expect(html.contains("<a href=\"https://wiki.example/runbook?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\">the runbook</a>"))
        #expect(html.contains("<a href=\"mailto:soc@example.com\""))
    }

    @Test("text shows as typed: escapes appear once, inside and outside code")
    func escaping() {
        #expect(renderer.html("a < b & c > d") == "<p>a &lt; b &amp; c &gt; d</p>")
        #expect(renderer.html("`a < b && \"c\"`") == "<p><code>a &lt; b &amp;&amp; &quot;c&quot;</code></p>")
        // Someone typing an entity sees the entity, not the character.
        #expect(renderer.html("&lt;") == "<p>&amp;lt;</p>")
        #expect(renderer.html("`&lt;`") == "<p><code>&amp;lt;</code></p>")
    }

    static func tags(of html: String) -> [Substring] {
        html.split(separator: "<").dropFirst().map { $0.prefix { $0 != ">" } }
    }

    /// `name="value"` (or `name=value`) pairs inside tags, whole.
    static func attributes(of html: String) -> [String] {
        tags(of: html).flatMap { tag in
            tag.matches(of: #/[a-z][a-z0-9-]*=("[^"]*"|'[^']*'|[^\s>"']+)/#).map { String(tag[$0.range]) }
        }
    }
}
