#if canImport(Glibc)
import Glibc
#endif

/// A rule that matched: its name, tags, and (while probing) the identifier offset it was read at.
public struct YaraMatch: Sendable, Equatable {
    public var rule: String
    public var tags: [String]
    var offset: Int
}

/// Compiled YARA rules. Sources are compiled one by one first, so that a broken file is
/// reported (with its line and libyara's message) and left out while the others load.
public final class YaraRules: @unchecked Sendable {
    let library: YaraLibrary
    private let rules: OpaquePointer
    /// Rules declared in the sources that compiled.
    public let ruleCount: Int
    /// Sources that compiled, by name.
    public let sources: [String]
    /// One line per source that did not compile: `name line N: message`.
    public let problems: [String]

    private init(library: YaraLibrary, rules: OpaquePointer, ruleCount: Int, sources: [String], problems: [String]) {
        self.library = library
        self.rules = rules
        self.ruleCount = ruleCount
        self.sources = sources
        self.problems = problems
    }

    deinit { _ = library.rulesDestroy(rules) }

    struct CompileError: Error, CustomStringConvertible {
        var messages: [String]
        var description: String { messages.joined(separator: "; ") }
    }

    /// Messages libyara's compiler reports through its callback.
    private final class Messages { var lines: [String] = [] }

    /// Compiles `sources` (name, text). Throws only when none compiles.
    static func compile(library: YaraLibrary, sources: [(name: String, text: String)], probing: Bool = false) throws -> YaraRules {
        var good: [(name: String, text: String)] = []
        var problems: [String] = []
        for source in sources {
            let errors = try withCompiler(library) { compiler, messages in
                let failures = library.compilerAddString(compiler, source.text, nil)
                return failures == 0 ? [] : messages.lines.map { "\(source.name) \($0)" }
            }
            if errors.isEmpty { good.append(source) } else { problems += errors.isEmpty ? ["\(source.name): does not compile"] : errors }
        }
        guard !good.isEmpty else { throw CompileError(messages: problems.isEmpty ? ["no YARA rules"] : problems) }
        let rules: OpaquePointer = try withCompiler(library) { compiler, messages in
            for source in good where library.compilerAddString(compiler, source.text, nil) != 0 {
                throw CompileError(messages: messages.lines)
            }
            var out: OpaquePointer?
            let status = library.compilerGetRules(compiler, &out)
            guard status == 0, let out else { throw CompileError(messages: ["yr_compiler_get_rules failed with error \(status)"]) }
            return out
        }
        let count = good.reduce(0) { $0 + declaredRules($1.text) }
        return YaraRules(library: library, rules: rules, ruleCount: count, sources: good.map(\.name), problems: problems)
    }

    private static func withCompiler<T>(_ library: YaraLibrary, _ body: (OpaquePointer, Messages) throws -> T) throws -> T {
        var compiler: OpaquePointer?
        guard library.compilerCreate(&compiler) == 0, let compiler else { throw CompileError(messages: ["yr_compiler_create failed (out of memory?)"]) }
        defer { library.compilerDestroy(compiler) }
        let messages = Messages()
        let box = Unmanaged.passRetained(messages)
        defer { box.release() }
        library.compilerSetCallback(compiler, { level, _, line, _, message, user in
            // YARA_ERROR_LEVEL_ERROR is 0; warnings (slow strings) do not refuse a file.
            guard let user, level == 0 else { return }
            let messages = Unmanaged<Messages>.fromOpaque(user).takeUnretainedValue()
            messages.lines.append("line \(line): " + (message.map { String(cString: $0) } ?? "unknown error"))
        }, box.toOpaque())
        return try body(compiler, messages)
    }

    /// `rule NAME` declarations (with `private`/`global` before them), counted on the text.
    static func declaredRules(_ text: String) -> Int {
        var count = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            var index = 0
            while index < words.count, words[index] == "private" || words[index] == "global" { index += 1 }
            if index + 1 < words.count, words[index] == "rule" { count += 1 }
        }
        return count
    }

    /// What a scan collects through libyara's callback.
    private final class Collector {
        var matches: [YaraMatch] = []
        let offsets: [Int]
        let expecting: String?
        init(offsets: [Int], expecting: String?) { self.offsets = offsets; self.expecting = expecting }
    }

    private static let callback: YaraLibrary.ScanCallback = { _, message, data, user in
        // CALLBACK_MSG_RULE_MATCHING = 1: `data` is the matching YR_RULE.
        guard message == 1, let data, let user else { return 0 }
        let collector = Unmanaged<Collector>.fromOpaque(user).takeUnretainedValue()
        for offset in collector.offsets {
            guard let name = data.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self) else { continue }
            let rule = String(cString: name)
            if let expecting = collector.expecting, rule != expecting { continue }
            var tags: [String] = []
            if var tag = data.load(fromByteOffset: offset + 8, as: UnsafePointer<CChar>?.self) {
                while tag.pointee != 0, tags.count < 32 {
                    let text = String(cString: tag)
                    tags.append(text)
                    tag += text.utf8.count + 1
                }
            }
            collector.matches.append(YaraMatch(rule: rule, tags: tags, offset: offset))
            break
        }
        return 0
    }

    /// Matches in the file at `path` (libyara maps it whole: callers cap the size first).
    public func scan(path: String, timeoutSeconds: Int32 = 60) throws -> [YaraMatch] {
        let collector = Collector(offsets: [library.identifierOffset], expecting: nil)
        let box = Unmanaged.passRetained(collector)
        defer { box.release() }
        let status = library.rulesScanFile(rules, path, 0, Self.callback, box.toOpaque(), timeoutSeconds)
        guard status == 0 else { throw CompileError(messages: [Self.scanError(status, timeoutSeconds)]) }
        return collector.matches
    }

    /// Matches in `bytes`, reading the identifier at the first of `offsets` that names
    /// `expecting` (for the layout probe), or at the library's offset.
    func scan(bytes: [UInt8], offsets: [Int]? = nil, expecting: String? = nil) throws -> [YaraMatch] {
        let collector = Collector(offsets: offsets ?? [library.identifierOffset], expecting: expecting)
        let box = Unmanaged.passRetained(collector)
        defer { box.release() }
        let status = bytes.withUnsafeBufferPointer { library.rulesScanMem(rules, $0.baseAddress, $0.count, 0, Self.callback, box.toOpaque(), 10) }
        guard status == 0 else { throw CompileError(messages: [Self.scanError(status, 10)]) }
        return collector.matches
    }

    static func scanError(_ status: Int32, _ timeout: Int32) -> String {
        switch status {
        case 1: "out of memory"
        case 3: "the file could not be opened or mapped"
        case 26: "timed out after \(timeout) s"
        default: "libyara error \(status)"
        }
    }
}
