import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `kvp`: read and write Hyper-V KVP pool files from scripts.
///
/// Exit status: 0 success, 1 key not found, 2 usage error or invalid input,
/// 3 pool file could not be read or written.  Works whether or not the
/// daemon runs: it uses the same pool-file store (and locks) as the daemon.
@main
struct KVPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvp",
        abstract: "Read and write Hyper-V KVP pools (.kvp_pool_0..4).",
        discussion: """
            Pools: external/0 (host to guest), guest/1 (guest to host), auto/2 (synthesised \
            by the daemon, file normally empty), host/3 (facts the host sends), internal/4.
            Exit status: 0 ok, 1 not found, 2 usage or invalid input, 3 pool file error.
            """,
        subcommands: [GetCommand.self, SetCommand.self, DeleteCommand.self,
                      ListCommand.self, DumpCommand.self]
    )

    /// Runs the command with this tool's exit codes (ArgumentParser's
    /// default for usage errors is 64; scripts are promised 2).
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let message = fullMessage(for: error)
            if exitCode(for: error) == .success {
                print(message)
                Glibc.exit(0)
            }
            Output.error(message)
            Glibc.exit(Status.usage)
        }
        do {
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch let e as ValidationError {
            Output.error("kvp: \(e.message)")
            Glibc.exit(Status.usage)
        } catch {
            // Help requested by a command without its own run(), or a parse-level error.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            Output.error(fullMessage(for: error))
            Glibc.exit(Status.usage)
        }
    }
}

/// Exit statuses.
enum Status {
    static let notFound: Int32 = 1
    static let usage: Int32 = 2
    static let ioError: Int32 = 3
}
