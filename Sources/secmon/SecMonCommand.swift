import App
import ArgumentParser
import NIOCore
import NIOPosix

/// `secmon`: the one command users run.
@main
struct SecMonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secmon",
        abstract: "SecMon: self-hosted security monitoring and incident response.",
        discussion: """
            Start the server with 'secmon serve' and open the address it prints. On the first start it \
            creates the 'admin' account and prints its one-time password.

            Every option can also be set through the environment variable named in its help.
            """,
        version: SecMonVersion.current,
        subcommands: [ServeCommand.self, AnalyzeCommand.self, RulesCommand.self, UserCommand.self, MigrateCommand.self, SimulateCommand.self, HostCommand.self, FimCommand.self, ScanCommand.self, VerifyLogCommand.self, BenchPipelineCommand.self, BenchBlockListCommand.self]
    )

    static func main() async {
        // The server runs Swift concurrency on SwiftNIO's event loops, so that async handlers and
        // middleware do not hop between two thread pools on every request (measured with
        // bench/http.sh). Other commands keep the default executor: starting the event loops
        // is a cost of every start (bench/host.sh times `secmon host snapshot`).
        if let command = CommandLine.arguments.dropFirst().first, command == "serve" || command == "bench-pipeline" {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
    }
}
