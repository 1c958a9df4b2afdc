import ArgumentParser
import AsyncHTTPClient
import Foundation
import Simulation

/// `secmon simulate`: drives the original design's attack scenarios at a running SecMon as real
/// HTTP traffic and says which incident each should open.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Play an attack scenario against a running SecMon (brute-force, api-flood, session-cycling, bot-pattern).",
        discussion: """
            Each simulated attacker sends from its own loopback address (127.0.0.2 to 127.0.0.5), so SecMon tells \
            them apart from each other and from you at 127.0.0.1. Only loopback targets unless --allow-remote. \
            session-cycling logs an account in and out: name it with --user and give its password in \
            SECMON_SIMULATE_PASSWORD or with --password-stdin (without them, --all skips it).
            """
    )

    @Argument(help: "The scenario: \(Scenario.names.joined(separator: ", ")).") var scenario: String?
    @Flag(name: .long, help: "Run the four scenarios in turn.") var all = false
    @Option(name: .long, help: "The SecMon to attack.") var target = "http://127.0.0.1:8080"
    @Option(name: .long, help: "Seconds one request may take (1 to 300).") var timeout = 10
    @Option(name: .long, help: "The account session-cycling logs in and out.") var user: String?
    @Flag(name: .long, help: "Read that account's password from the first line of standard input.") var passwordStdin = false
    @Flag(name: .long, help: "Allow a target that is not this machine.") var allowRemote = false

    func run() async throws {
        do {
            try await simulate()
        } catch let error as CommandLineError {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        } catch let failure as Simulator.Failure {
            FileHandle.standardError.write(Data("Error: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func simulate() async throws {
        let password = passwordStdin ? try UserCommand.passwordFromStandardInput()
            : ProcessInfo.processInfo.environment["SECMON_SIMULATE_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        var scenarios: [Scenario]
        if all {
            guard scenario == nil else { throw CommandLineError("give a scenario or --all, not both") }
            scenarios = Scenario.all(user: user ?? "")
            if user == nil || password == nil {
                scenarios.removeAll { $0.needsAccount }
                print("session-cycling is skipped: it needs --user and a password (SECMON_SIMULATE_PASSWORD or --password-stdin).")
            }
        } else {
            guard let name = scenario else { throw CommandLineError("name a scenario (\(Scenario.names.joined(separator: ", "))) or pass --all") }
            guard let chosen = Scenario.named(name, user: user ?? "") else {
                throw CommandLineError("unknown scenario '\(name)'; choose one of \(Scenario.names.joined(separator: ", "))")
            }
            scenarios = [chosen]
        }
        guard let url = URL(string: target) else { throw CommandLineError("--target '\(target)' is not a URL") }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let simulator: Simulator
            do {
                guard (1...300).contains(timeout) else { throw CommandLineError("--timeout must be between 1 and 300 seconds, not \(timeout)") }
                simulator = try Simulator(target: url, user: user, password: password, allowRemote: allowRemote, http: http,
                                          requestTimeout: .seconds(Int64(timeout)))
            } catch let failure as Simulator.Failure {
                throw CommandLineError(failure.description)
            }
            for scenario in scenarios {
                print("\(scenario.name): \(scenario.summary), from \(simulator.bindSource ? scenario.source : "this machine's address")")
                let report = try await simulator.run(scenario)
                let counts = Dictionary(grouping: report.statuses, by: { $0 }).map { "\($0.value.count)× \($0.key)" }.sorted().joined(separator: ", ")
                let e = scenario.expectation
                print("  sent \(report.requests) requests (\(counts))")
                if report.refused > 0 {
                    print("  \(report.refused) refused by active response (403 blocked, 429 rate-limited or throttled): see /response")
                }
                print("  expect: one incident, \(e.rule), severity \(e.severity), playbook \(e.playbook), about \(e.about), \(e.alerts) alert(s)")
            }
            print("Open \(url.absoluteString.trimmingCharacters(in: ["/"]))/incidents to see them (alerts are filed within a second).")
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}
