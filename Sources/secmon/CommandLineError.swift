/// A problem with what was asked on the command line, found while running; printed as
/// `Error: …` without the usage text (which would hide the message).
struct CommandLineError: Error, CustomStringConvertible {
    var description: String
    /// The exit status a command that documents its statuses uses for this problem (`secmon
    /// analyze`: 2 for broken rules, 64 for a bad option, as `sysexits.h`'s EX_USAGE).
    var exitCode: Int32

    init(_ description: String, exitCode: Int32 = 64) {
        self.description = description
        self.exitCode = exitCode
    }
}
