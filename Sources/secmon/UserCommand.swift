import App
import ArgumentParser
import Foundation
import SecurityModel

/// `secmon user`: manage accounts from the shell (for example when every admin is locked out).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage user accounts.",
        subcommands: [Add.self, Passwd.self, List.self, Lock.self, Unlock.self, SetRole.self]
    )

    /// Reads one line from standard input (the password), without its newline.
    static func passwordFromStandardInput() throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandLineError("--password-stdin was given but standard input had no password line")
        }
        return line
    }

    static func role(_ text: String) throws -> Role {
        guard let role = Role(rawValue: text.lowercased()) else {
            throw CommandLineError("unknown role '\(text)'; use viewer, analyst or admin")
        }
        return role
    }

    static func run<T: Sendable>(_ storage: StorageOptions, _ body: @Sendable (AccountAdmin) async throws -> T) async throws -> T {
        let env = ProcessInfo.processInfo.environment
        var config = SecMonConfig()
        try storage.apply(to: &config, env)
        return try await SecMonServer.withAccounts(config, logLevel: try storage.level(env), body)
    }

    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Create a user.",
            discussion: "Without --password-stdin a one-time password is generated and printed; it must be changed at first login."
        )
        @Argument(help: "The user name (letters, digits, '.', '_', '-', '@').") var username: String
        @Option(name: .long, help: "viewer, analyst or admin.") var role: String = "viewer"
        @Flag(name: .long, help: "Read the password from the first line of standard input.") var passwordStdin = false
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let role = try UserCommand.role(self.role)
            let given = passwordStdin ? try UserCommand.passwordFromStandardInput() : nil
            let name = username
            let password = try await UserCommand.run(storage) { try await $0.add(name, role: role, password: given) }
            UserCommand.say(given == nil
                ? "Created \(name.lowercased()) (\(role.rawValue)) with one-time password: \(password)\nIt must be changed at first login."
                : "Created \(name.lowercased()) (\(role.rawValue)).")
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Set a user's password and end their sessions.",
            discussion: "Without --password-stdin a one-time password is generated and printed; it must be changed at next login."
        )
        @Argument(help: "The user name.") var username: String
        @Flag(name: .long, help: "Read the password from the first line of standard input.") var passwordStdin = false
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let given = passwordStdin ? try UserCommand.passwordFromStandardInput() : nil
            let name = username
            let password = try await UserCommand.run(storage) { try await $0.setPassword(name, password: given, mustChange: given == nil) }
            UserCommand.say(given == nil ? "New one-time password for \(name): \(password)\nIt must be changed at next login." : "Password of \(name) changed.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List users.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let rows = try await UserCommand.run(storage) { try await $0.list() }
            let widths = [
                max(4, rows.map(\.username.count).max() ?? 0), 7, max(5, rows.map(\.state.count).max() ?? 0),
            ]
            func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
            UserCommand.say(pad("USER", widths[0]) + "  " + pad("ROLE", widths[1]) + "  " + pad("STATE", widths[2]) + "  LAST LOGIN")
            for row in rows {
                UserCommand.say(pad(row.username, widths[0]) + "  " + pad(row.role, widths[1]) + "  " + pad(row.state, widths[2]) + "  " + row.lastLogin)
            }
        }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lock", abstract: "Lock a user out and end their sessions.")
        @Argument(help: "The user name.") var username: String
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let name = username
            try await UserCommand.run(storage) { try await $0.setLocked(name, true) }
            UserCommand.say("Locked \(name).")
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unlock", abstract: "Unlock a user (also clears a lock after failed logins).")
        @Argument(help: "The user name.") var username: String
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let name = username
            try await UserCommand.run(storage) { try await $0.setLocked(name, false) }
            UserCommand.say("Unlocked \(name).")
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "role", abstract: "Change a user's role.")
        @Argument(help: "The user name.") var username: String
        @Argument(help: "viewer, analyst or admin.") var role: String
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let role = try UserCommand.role(self.role)
            let name = username
            try await UserCommand.run(storage) { try await $0.setRole(name, role) }
            UserCommand.say("\(name) is now \(role.rawValue).")
        }
    }
}
