import DetectionEngine
#if canImport(Glibc)
import Glibc
#endif
import LogFormats
import SecurityModel

// Coverage-guided fuzzing of SecMon's input parsers with libFuzzer (scripts/fuzz.sh builds this
// with -sanitize=fuzzer,address and -DFUZZING). Built normally it replays files given as arguments
// (a corpus, or a crash libFuzzer saved) through the same entry point, so a finding is reproduced
// by the ordinary build.

/// The fields the decoders fill: a mix of every format's names.
let fields = FieldTable(["ip_address", "username", "action", "status", "path", "a.b", "c-ip", "cs-uri-query", "sc-status",
                         "cs-user-agent", "host", "program", "pid", "message", "user", "source_ip", "source_port", "outcome",
                         "auth_method", "timestamp", "ts", "source.ip"])
let reference = Timestamp(microseconds: 1_795_000_000_000_000)

/// One input: its first byte picks the target (a decoder, format detection, the rule loader); the
/// rest is the line or the text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 6 {
    case 0, 1, 2, 3:
        let format = LogFormat.allCases[Int(data[0]) % LogFormat.allCases.count]
        var decoder = LineDecoder(format: format, fields: fields, keepRawLine: true, referenceTime: reference)
        var record = EventRecord(slotCount: fields.count)
        do {
            try decoder.decode(body, into: &record)
            for slot in 0..<fields.count { _ = record[slot] }
        } catch {
            precondition(!error.reason.isEmpty, "a rejection without a reason")
        }
    case 4:
        let lines = body.split(separator: 0x0A, maxSplits: 20).map { Array($0) }
        _ = LogFormat.detect(lines, referenceTime: reference)
    default:
        let result = RuleLoader.load([RuleSource(path: "fuzz.yml", text: String(decoding: body, as: UTF8.self))])
        var engine = DetectionEngine(rules: result.ruleSet, latenessSeconds: 0)
        var record = EventRecord(slotCount: result.ruleSet.fields.count)
        for slot in 0..<record.slotCount { record[slot] = .string("10.0.0.1 FAIL admin /a") }
        engine.process(record)
        engine.finish()
    }
    return 0
}

#if FUZZING
/// libFuzzer's driver (from `libclang_rt.fuzzer_no_main`, which scripts/fuzz.sh links).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// The fuzzing build's entry point: hands control to libFuzzer.
@main
enum FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzOne(data, size) }))
    }
}
#else
import Foundation

/// The ordinary build's entry point: replays the files given as arguments.
@main
enum FuzzReplay {
    static func main() {
        var replayed = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("secmon-fuzz: cannot read \(path)\n".utf8))
                continue
            }
            let bytes = [UInt8](data)
            bytes.withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress { _ = fuzzOne(base, buffer.count) }
            }
            replayed += 1
        }
        print("secmon-fuzz: \(replayed) input(s) replayed without a trap")
    }
}
#endif
