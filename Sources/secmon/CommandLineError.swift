/// A problem with what was asked on the command line, found while running; printed as
/// `Error: …` without the usage text (which would hide the message).
struct CommandLineError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
