import App
import ArgumentParser

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
        subcommands: [ServeCommand.self, UserCommand.self, MigrateCommand.self]
    )
}
