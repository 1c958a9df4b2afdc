#if canImport(Glibc)
import Glibc
#endif

/// Debian's `libyara`, loaded at run time with `dlopen`: SecMon builds and runs without it, and
/// says how to install it when it is missing. Only the C functions the scanner needs are bound.
///
/// Invariants (the one place SecMon reads libyara's memory):
/// - `yr_initialize` runs once per process, before any other call; `yr_finalize` never (the
///   library stays loaded for the life of the process).
/// - A matching rule is a `YR_RULE*` whose identifier and tags are consecutive 8-byte references;
///   where they start differs between YARA 4.2 (offset 8) and 4.3 (offset 16), so the offset is
///   found once by compiling and matching a probe rule of a known name, reading offset 16 first
///   (in 4.2 it holds the tags pointer, a valid string, so reading it is safe in both).
public final class YaraLibrary: @unchecked Sendable {
    typealias Initialize = @convention(c) () -> Int32
    typealias CompilerCreate = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias CompilerDestroy = @convention(c) (OpaquePointer?) -> Void
    typealias CompilerCallback = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafeRawPointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void
    typealias CompilerSetCallback = @convention(c) (OpaquePointer?, CompilerCallback?, UnsafeMutableRawPointer?) -> Void
    typealias CompilerAddString = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    typealias CompilerGetRules = @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias ScanCallback = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    typealias RulesScanFile = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32, ScanCallback?, UnsafeMutableRawPointer?, Int32) -> Int32
    typealias RulesScanMem = @convention(c) (OpaquePointer?, UnsafePointer<UInt8>?, Int, Int32, ScanCallback?, UnsafeMutableRawPointer?, Int32) -> Int32
    typealias RulesDestroy = @convention(c) (OpaquePointer?) -> Int32

    let compilerCreate: CompilerCreate
    let compilerDestroy: CompilerDestroy
    let compilerSetCallback: CompilerSetCallback
    let compilerAddString: CompilerAddString
    let compilerGetRules: CompilerGetRules
    let rulesScanFile: RulesScanFile
    let rulesScanMem: RulesScanMem
    let rulesDestroy: RulesDestroy
    /// Where a rule's identifier reference sits in `YR_RULE`.
    private(set) var identifierOffset = 8
    /// The file the library was loaded from.
    public let soname: String

    /// Library names tried, newest first.
    static let candidates = ["libyara.so.10", "libyara.so.9", "libyara.so.8", "libyara.so"]

    /// The process's library, loaded on first use; nil with the reason when it cannot be.
    public static let shared: Result<YaraLibrary, YaraUnavailable> = load()

    private init(handle: UnsafeMutableRawPointer, soname: String) throws(YaraUnavailable) {
        func symbol<T>(_ name: String, _: T.Type) throws(YaraUnavailable) -> T {
            guard let pointer = dlsym(handle, name) else { throw YaraUnavailable(reason: "\(soname) has no \(name): an unsupported libyara version") }
            return unsafeBitCast(pointer, to: T.self)
        }
        self.soname = soname
        let initialize = try symbol("yr_initialize", Initialize.self)
        compilerCreate = try symbol("yr_compiler_create", CompilerCreate.self)
        compilerDestroy = try symbol("yr_compiler_destroy", CompilerDestroy.self)
        compilerSetCallback = try symbol("yr_compiler_set_callback", CompilerSetCallback.self)
        compilerAddString = try symbol("yr_compiler_add_string", CompilerAddString.self)
        compilerGetRules = try symbol("yr_compiler_get_rules", CompilerGetRules.self)
        rulesScanFile = try symbol("yr_rules_scan_file", RulesScanFile.self)
        rulesScanMem = try symbol("yr_rules_scan_mem", RulesScanMem.self)
        rulesDestroy = try symbol("yr_rules_destroy", RulesDestroy.self)
        let status = initialize()
        guard status == 0 else { throw YaraUnavailable(reason: "yr_initialize failed with error \(status)") }
        identifierOffset = try probeOffset()
    }

    private static func load() -> Result<YaraLibrary, YaraUnavailable> {
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            do { return .success(try YaraLibrary(handle: handle, soname: name)) } catch { return .failure(error) }
        }
        return .failure(YaraUnavailable(reason: "libyara is not installed (apt-get install libyara9, or the libyara of your distribution)"))
    }

    /// Compiles `source` and matches it against a few bytes; answers the identifier offset at
    /// which the probe rule's name is found.
    private func probeOffset() throws(YaraUnavailable) -> Int {
        let name = "secmon_probe_rule_7f3a"
        let compiled: YaraRules
        do { compiled = try YaraRules.compile(library: self, sources: [("probe", "rule \(name) { condition: true }")], probing: true) } catch {
            throw YaraUnavailable(reason: "libyara could not compile a probe rule: \(error)")
        }
        let found: [YaraMatch]
        do { found = try compiled.scan(bytes: [0x53, 0x4d], offsets: [16, 8], expecting: name) } catch {
            throw YaraUnavailable(reason: "libyara could not scan: \(error)")
        }
        guard let offset = found.first?.offset else { throw YaraUnavailable(reason: "libyara's rule layout is not one SecMon knows (\(soname))") }
        return offset
    }
}

/// Why YARA is off, and how to turn it on.
public struct YaraUnavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { reason }
}
