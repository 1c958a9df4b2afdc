import Foundation
import Testing

/// A Sigma tool's view of the bundled pack: pySigma (the Sigma project's reference library) loads
/// every Sigma file without an error, SecMon's baseline rules stay in their own `bl_*.yml` files,
/// and the check fails on a pack that breaks either (scripts/test.sh installs pySigma).
@Suite("The pack as Sigma tools see it", .timeLimit(.minutes(2)))
struct SigmaCompatibilityTests {
    static let script = Paths.repository.appendingPathComponent("scripts/sigma_check.py").path
    static let required = ProcessInfo.processInfo.environment["SECMON_TEST_REQUIRE_ALL"] == "1"

    static func check(_ directory: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, directory]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test("pySigma loads every Sigma file of the pack; a UUID-less id or a misplaced baseline is caught")
    func pack() throws {
        let result = try Self.check(Paths.rules)
        if result.status == 2, !Self.required { return }  // pySigma missing outside scripts/test.sh
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("0 problems"), "\(result.output)")

        // A copy of the pack with an id that is not a UUID, and a baseline in a Sigma file.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("secmon-sigma-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(atPath: Paths.rules, toPath: copy.path)
        let d01 = copy.appendingPathComponent("secmon/d01_brute_force.yml")
        var text = try String(contentsOf: d01, encoding: .utf8)
        text = text.replacingOccurrences(of: #"(?m)^id: .*$"#, with: "id: D-01", options: .regularExpression)
        try text.write(to: d01, atomically: true, encoding: .utf8)
        let baseline = try String(contentsOf: copy.appendingPathComponent("secmon/bl_d17_regular_interaction.yml"), encoding: .utf8)
        try baseline.write(to: copy.appendingPathComponent("secmon/d17_misplaced.yml"), atomically: true, encoding: .utf8)
        let broken = try Self.check(copy.path)
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.output.contains("d01_brute_force.yml") && broken.output.contains("UUID"), "\(broken.output)")
        #expect(broken.output.contains("d17_misplaced.yml: a baseline rule in a Sigma file"), "\(broken.output)")
    }
}
