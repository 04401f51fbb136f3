/// A failure a subcommand reports to the admin: ArgumentParser prints "Error: <message>" and exits 1,
/// without the usage text (which is for command-line mistakes only).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
